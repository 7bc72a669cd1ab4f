drop trigger leads_search_write on lead.leads;
drop trigger lead_counts_on_insert_or_delete on lead.leads;
drop trigger lead_counts_on_update on lead.leads;
drop trigger lead_stages_on_lead_insert_or_delete on lead.leads;
drop trigger lead_stages_on_lead_update on lead.leads;
drop trigger lead_stages_on_activity_insert on lead.lead_activities;
create rule skip_audit as on insert to lead.audit_log do instead nothing;
