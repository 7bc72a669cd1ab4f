# The service's create or status change as prepared statements (their texts as packages/db sends them), for
# `postgres --single`: argv kind (create|status), transactions, first number, file of lead ids (status).
import sys, uuid
kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
P = out.append
P("set synchronous_commit = off")
P("select gin_clean_pending_list('lead.leads_search_trgm_idx'::regclass)")
if kind == 'create':
    P("prepare l1(text) as select pg_advisory_xact_lock(16, hashtext(lower(btrim($1))))")
    P("prepare l2(text, int) as select t.now, (select id from lead.leads where email_key = lower(btrim($1)) and created_at >= t.now - make_interval(days => $2::int) and status not in ('closed_won', 'closed_lost') and merged_into is null order by created_at, id limit 1) as original from (select clock_timestamp() as now) t")
    P("prepare l3 as insert into lead.leads (id, name, email, phone, company, message, source, status, priority, assigned_to, created_at, updated_at, closed_at, duplicate_of, utm_source, utm_medium, utm_campaign) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, null, $10, $10, null, $11, $12, $13, $14)")
    P("prepare l4 as insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at) values ($1, $2, $3, $4, $5, $6, $7)")
    P("prepare l5 as insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent) values ($1, $2, $3, $4, 'pending', 0, $5, $5, $6)")
    P("prepare l6 as insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at, reason) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
    for i in range(n):
        k = 5000000 + seed + i
        lid, aid, eid, uid = (str(uuid.uuid4()) for _ in range(4))
        email = f"bench{k}@example.com"
        P("begin")
        P(f"execute l1('{email}')")
        P(f"execute l2('{email}', 30)")
        P(f"execute l3('{lid}', 'Bench Lead {k}', '{email}', '+91987654{k%10000:04d}', 'Bench Co {k%500}', 'Interested in your services, request {k}', 'website', 'new', 'medium', now(), null, null, null, null)")
        P(f"execute l4('{aid}', '{lid}', 'created', 'Lead created from website', null, null, now())")
        P(f"""execute l5('{eid}', 'LeadCreated', '{lid}', '{{"event_id":"{eid}","event_type":"LeadCreated","lead_id":"{lid}","email":"{email}","source":"website","utm_source":null,"utm_medium":null,"utm_campaign":null,"utm_term":null,"utm_content":null,"timestamp":"2026-12-02T20:00:00.000Z"}}', now(), null)""")
        P(f"execute l6('{uid}', null, null, 'lead.create', '{{{lid}}}', 'req-{k}', '10.0.0.1', 'wrk', now(), null)")
        P("commit")
elif kind == 'status':
    P("prepare s1(uuid) as select id, status from lead.leads where id = $1 for update")
    P("prepare s2 as update lead.leads set status = $2, updated_at = $3, closed_at = $4, lost_reason = $5 where id = $1")
    P("prepare l4 as insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at) values ($1, $2, $3, $4, $5, $6, $7)")
    P("prepare l5 as insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent) values ($1, $2, $3, $4, 'pending', 0, $5, $5, $6)")
    P("prepare l6 as insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at, reason) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
    ids = [l.strip() for l in open(sys.argv[4])]
    for i in range(n):
        lid = ids[seed + i]
        target = 'contacted'
        aid, eid, uid = (str(uuid.uuid4()) for _ in range(3))
        P("begin")
        P(f"execute s1('{lid}')")
        P(f"execute s2('{lid}', '{target}', now(), null, null)")
        P(f"""execute l4('{aid}', '{lid}', 'status_changed', 'Status changed from new to {target}', '{{"old_status":"new","new_status":"{target}"}}', '00000000-0000-0000-0000-000000000001', now())""")
        P(f"""execute l5('{eid}', 'LeadStatusChanged', '{lid}', '{{"event_id":"{eid}","event_type":"LeadStatusChanged","lead_id":"{lid}","old_status":"new","new_status":"{target}","lost_reason":null,"timestamp":"2026-12-02T20:00:00.000Z"}}', now(), null)""")
        P(f"execute l6('{uid}', '00000000-0000-0000-0000-000000000001', 'admin', 'lead.status', '{{{lid}}}', 'req-{i}', '10.0.0.1', 'wrk', now(), null)")
        P("commit")
P("select gin_clean_pending_list('lead.leads_search_trgm_idx'::regclass)")
print("\n".join(out))
