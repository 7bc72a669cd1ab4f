drop trigger leads_search_write on lead.leads;
