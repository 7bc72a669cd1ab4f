create rule skip_audit as on insert to lead.audit_log do instead nothing;
