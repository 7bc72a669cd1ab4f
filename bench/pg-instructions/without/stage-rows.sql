drop trigger lead_stages_on_lead_insert_or_delete on lead.leads;
drop trigger lead_stages_on_lead_update on lead.leads;
drop trigger lead_stages_on_activity_insert on lead.lead_activities;
