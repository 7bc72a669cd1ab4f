drop trigger lead_counts_on_insert_or_delete on lead.leads;
drop trigger lead_counts_on_update on lead.leads;
