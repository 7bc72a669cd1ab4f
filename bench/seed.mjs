// Bulk seeding in SQL: `size` leads spread over two years with a realistic mix of status, source
// and assignee, and 1–4 activities each (created; status_changed once past `new`; a note for a
// third; an assignment for assigned leads); 60 % with utm attribution. Ids are time-ordered like the service's uuid v7, so
// index locality matches production. setseed makes every run seed the same data.

/** The team the seeded leads are assigned to. */
export const ASSIGNEES = Array.from({ length: 25 }, (_, i) => `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

const uuidFrom = (ts, salt) =>
  `(lpad(to_hex((extract(epoch from ${ts}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${salt}), 1, 3) || '8' || substr(md5(${salt}), 4, 15))::uuid`;

export async function seed(client, size) {
  const n = Math.trunc(size);
  // Row by row, the count triggers and foreign key checks would take most of the time at a
  // million: the seed skips triggers (its rows are consistent by construction), so it writes
  // the e-mail key and the search document the triggers would, and rebuilds the counts at the
  // end exactly as their migration does.
  await client.query('set session_replication_role = replica');
  const assignees = `array[${ASSIGNEES.map((a) => `'${a}'::uuid`).join(', ')}]`;
  await client.query('select setseed(0.42)');
  await client.query(`
    insert into lead.leads (id, name, email, email_key, phone, company, message, source, status, priority, assigned_to, created_at, updated_at, closed_at,
                            utm_source, utm_medium, utm_campaign)
    select v.* from (
    select ${uuidFrom('r.created_at', 'r.g::text')}, 'Lead ' || r.g as name, 'lead' || r.g || '@example.com' as email, 'lead' || r.g || '@example.com',
      case when r.g % 3 = 0 then null else '+9198' || lpad((r.g % 100000000)::text, 8, '0') end as phone,
      case when r.g % 4 = 0 then null else 'Company ' || (r.g % 5000) end as company,
      'Interested in your services, please call back about enquiry ' || r.g as message,
      r.source, r.status,
      (array['low', 'medium', 'medium', 'high'])[1 + r.g % 4],
      case when r.status = 'new' and r.ra < 0.8 then null else (${assignees})[1 + floor(r.ra * 25)::int % 25] end,
      r.created_at,
      least(r.created_at + r.rs * interval '10 days', now()),
      case when r.status in ('closed_won', 'closed_lost') then least(r.created_at + r.rs * interval '10 days', now()) end,
      case when r.ru < 0.6 then (array['google', 'newsletter', 'linkedin', 'facebook', 'partner-blog', 'bing'])[1 + r.g % 6] end,
      case when r.ru < 0.6 then (array['cpc', 'email', 'social', 'social', 'referral', 'cpc'])[1 + r.g % 6] end,
      case when r.ru < 0.6 then 'campaign-' || (r.g % 50) end
    from (
      select g, created_at, rs, ra, ru,
        case when rs < 0.30 then 'new' when rs < 0.50 then 'contacted' when rs < 0.65 then 'qualified'
             when rs < 0.75 then 'proposal' when rs < 0.85 then 'closed_won' else 'closed_lost' end as status,
        case when rsrc < 0.55 then 'website' when rsrc < 0.75 then 'referral' when rsrc < 0.90 then 'social' else 'other' end as source
      from (
        select g, now() - (${n} - g) * (interval '730 days' / ${n}) - random() * interval '1 minute' as created_at,
          random() as rs, random() as rsrc, random() as ra, random() as ru
        from generate_series(1, ${n}) as g
      ) as x
    ) as r) as v`);
  await client.query(`
    insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
    select ${uuidFrom('created_at', "id::text || 'c'")}, id, 'created', 'Lead created from ' || source, null, null, created_at
    from lead.leads
    union all
    select ${uuidFrom('updated_at', "id::text || 's'")}, id, 'status_changed', 'Status changed from new to ' || status,
      jsonb_build_object('old_status', 'new', 'new_status', status), coalesce(assigned_to, '11111111-1111-4111-8111-111111111111'), updated_at
    from lead.leads where status <> 'new'
    union all
    select ${uuidFrom('created_at', "id::text || 'a'")}, id, 'assigned', 'Assigned to ' || assigned_to,
      jsonb_build_object('assigned_from', null, 'assigned_to', assigned_to), '11111111-1111-4111-8111-111111111111', created_at + interval '1 minute'
    from lead.leads where assigned_to is not null
    union all
    select ${uuidFrom('created_at', "id::text || 'n'")}, id, 'note_added', 'Called, left a message', null, assigned_to, created_at + interval '1 hour'
    from lead.leads where assigned_to is not null and hashtext(id::text) % 3 = 0`);
  await client.query(`
    insert into lead.lead_search (lead_id, created_at, search_text)
    select id, created_at, lead.search_document(name, email, company, phone, message) from lead.leads`);
  // 60 % of the leads came with utm parameters (50 campaigns, six sources and mediums).
  await client.query(`
    insert into lead.lead_attributions (lead_id, utm_source, utm_medium, utm_campaign, referrer, landing_page, page, first_touch)
    select id, utm_source, utm_medium, utm_campaign, 'https://' || utm_source || '.example/',
      'https://www.example.com/pricing?utm_source=' || utm_source || '&utm_medium=' || utm_medium || '&utm_campaign=' || utm_campaign,
      'https://www.example.com/contact',
      -- Every key the service stores (null when absent), as its own first touches hold them.
      jsonb_build_object('utm_source', utm_source, 'utm_medium', null, 'utm_campaign', null, 'utm_term', null, 'utm_content', null,
        'referrer', null, 'landing_page', 'https://www.example.com/', 'page', null, 'at', created_at - interval '3 days')
    from lead.leads where utm_source is not null`);
  await client.query('reset session_replication_role');
  // The reports' stage rows and weekly sums, as the migration that creates them fills them.
  await client.query('select lead.lead_stages_rebuild()');
  await client.query(`delete from lead.lead_counts`);
  await client.query(`
    insert into lead.lead_counts (status, source, assigned_to, n)
    select status, source, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), count(*) from lead.leads group by 1, 2, 3`);
  await client.query(
    'vacuum analyze lead.leads, lead.lead_search, lead.lead_activities, lead.lead_attributions, lead.lead_counts, lead.lead_stages, lead.lead_stage_weeks, lead.lead_source_weeks',
  );
}
