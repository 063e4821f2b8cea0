-- Owners manage their workspace (issue 14): members and invitations, budgets, Sheets export targets.
--
-- Every change goes through a security definer function that checks the caller's role in the workspace the
-- request names (request.jwt.claims, request.headers: see 20261130170000_workspaces.sql) in the same transaction
-- as its writes. The new tables have no grants to the dashboard's role: it reads and writes them only through
-- these functions, so they need no reader policies (row-level security is on, without policies, for anyone
-- else).

-- ---- members and invitations ------------------------------------------------------------------------------

alter table analytics.workspace_members
    -- The address the member was invited or added by (an owner's list shows it; NULL: added by user id).
    add column email text check (email is null or length(email) between 3 and 320),
    -- Set when an owner invited a new user by e-mail; accepted_at stays NULL (pending) until the invited user
    -- signs in (their first GET /me). Members added otherwise (an operator, an existing account) are accepted.
    add column invited_at timestamptz,
    add column accepted_at timestamptz default now();
update analytics.workspace_members set accepted_at = added_at;

-- The caller's role must be owner (members, budgets): the owner's counterpart of require_workspace_editor().
create function analytics.require_workspace_owner()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if analytics.current_workspace_role() is distinct from 'owner' then
        raise exception 'only an owner of this workspace may do this' using errcode = 'insufficient_privilege';
    end if;
    return analytics.current_workspace_id();
end
$$;

create function analytics.workspace_member_list()
returns table (user_id uuid, role text, email text, added_at timestamptz, invited_at timestamptz,
               accepted_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
    select m.user_id, m.role, m.email, m.added_at, m.invited_at, m.accepted_at
      from analytics.workspace_members m
     where m.workspace_id = analytics.require_workspace_owner()
     order by case m.role when 'owner' then 0 when 'editor' then 1 else 2 end, m.email nulls last, m.user_id
$$;

-- Adds a member (an invited user, pending, or an existing one); false when they are a member already (their
-- role is not changed: that is set_workspace_member_role's job).
create function analytics.add_workspace_member(p_user_id uuid, p_role text, p_email text, p_pending boolean)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.require_workspace_owner();
    added int;
begin
    insert into analytics.workspace_members (workspace_id, user_id, role, email, invited_at, accepted_at)
    values (ws, p_user_id, p_role, p_email, case when p_pending then now() end,
            case when not p_pending then now() end)
    on conflict (workspace_id, user_id) do nothing;
    get diagnostics added = row_count;
    return added = 1;
end
$$;

-- Owners are locked first, so two owners demoting or removing each other at once cannot leave none.
create function analytics._lock_last_owner(p_workspace_id uuid, p_user_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    owners uuid[];
begin
    select array_agg(m.user_id) into owners
      from (select user_id from analytics.workspace_members
             where workspace_id = p_workspace_id and role = 'owner' order by user_id for update) m;
    if owners = array[p_user_id] then
        raise exception 'the workspace''s last owner cannot be removed or demoted: make another member an owner first'
            using errcode = 'VS409';
    end if;
end
$$;

-- The member with their new role; no row when the user is not a member. VS409 when it would leave no owner.
-- (An owner may demote themselves while another owner remains: the row is returned, since they may no longer
-- list the members.)
create function analytics.set_workspace_member_role(p_user_id uuid, p_role text)
returns table (user_id uuid, role text, email text, added_at timestamptz, invited_at timestamptz,
               accepted_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.require_workspace_owner();
    current_role_ text;
begin
    select m.role into current_role_ from analytics.workspace_members m
     where m.workspace_id = ws and m.user_id = p_user_id for update;
    if current_role_ is null then
        return;
    end if;
    if current_role_ = 'owner' and p_role <> 'owner' then
        perform analytics._lock_last_owner(ws, p_user_id);
    end if;
    return query
    update analytics.workspace_members m set role = p_role
     where m.workspace_id = ws and m.user_id = p_user_id
    returning m.user_id, m.role, m.email, m.added_at, m.invited_at, m.accepted_at;
end
$$;

-- Removes a member; false when the user is not one. VS409 when it would leave no owner.
create function analytics.remove_workspace_member(p_user_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.require_workspace_owner();
    current_role_ text;
begin
    select role into current_role_ from analytics.workspace_members
     where workspace_id = ws and user_id = p_user_id for update;
    if current_role_ is null then
        return false;
    end if;
    if current_role_ = 'owner' then
        perform analytics._lock_last_owner(ws, p_user_id);
    end if;
    delete from analytics.workspace_members where workspace_id = ws and user_id = p_user_id;
    return true;
end
$$;

-- The caller signed in: their pending invitations are accepted.
create function analytics.accept_workspace_invitations()
returns void
language sql
volatile
security definer
set search_path = ''
as $$
    update analytics.workspace_members set accepted_at = now()
     where user_id = analytics.current_user_id() and accepted_at is null
$$;

-- ---- budgets ----------------------------------------------------------------------------------------------

-- What an owner set (NULL: the operator's default). The operator's maximum and default are not stored: they
-- are the deployment's configuration, passed in by the functions that read or charge a budget.
create table analytics.workspace_budgets (
    workspace_id        uuid primary key references analytics.workspaces (id) on delete cascade,
    max_tracked_videos  integer check (max_tracked_videos >= 0),
    max_fetches_per_day integer check (max_fetches_per_day >= 0),
    updated_at          timestamptz not null default now()
);
comment on table analytics.workspace_budgets is
    'Caps an owner set on actively tracked videos and on-demand fetches per UTC day (NULL: the default).';

-- On-demand fetches charged per workspace and UTC day (tracking commands, blogger batches; not the nightly run).
create table analytics.workspace_fetch_usage (
    workspace_id uuid not null references analytics.workspaces (id) on delete cascade,
    day          date not null,
    fetches      integer not null check (fetches >= 0),
    primary key (workspace_id, day)
);

alter table analytics.workspace_budgets enable row level security;
alter table analytics.workspace_fetch_usage enable row level security;

-- The workspace a budget function may act on: the caller's (an owner or editor when p_edit), or any for a
-- caller without claims (an operator's CLI).
create function analytics._budget_workspace(p_workspace_id uuid, p_edit boolean)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if analytics.current_user_id() is null then
        return p_workspace_id;
    end if;
    if p_workspace_id is distinct from
            (case when p_edit then analytics.editable_workspace_id() else analytics.current_workspace_id() end) then
        raise exception 'the caller may not use this workspace''s budget' using errcode = 'insufficient_privilege';
    end if;
    return p_workspace_id;
end
$$;

-- The budget's caps (the owner's setting within the operator's maximum, or the default) and their use today.
create function analytics.workspace_budget(p_workspace_id uuid, p_default_tracked integer, p_max_tracked integer,
                                           p_default_fetches integer, p_max_fetches integer)
returns table (tracked_limit integer, tracked_used integer, owner_tracked integer,
               fetches_limit integer, fetches_used integer, owner_fetches integer)
language sql
stable
security definer
set search_path = ''
as $$
    select least(coalesce(b.max_tracked_videos, p_default_tracked), p_max_tracked),
           (select count(*)::integer from analytics.workspace_videos wv
             where wv.workspace_id = w.id and wv.stopped_at is null),
           b.max_tracked_videos,
           least(coalesce(b.max_fetches_per_day, p_default_fetches), p_max_fetches),
           coalesce((select u.fetches from analytics.workspace_fetch_usage u
                      where u.workspace_id = w.id and u.day = (now() at time zone 'UTC')::date), 0),
           b.max_fetches_per_day
      from analytics.workspaces w
      left join analytics.workspace_budgets b on b.workspace_id = w.id
     where w.id = analytics._budget_workspace(p_workspace_id, false)
$$;

-- An owner sets the caps (NULL: back to the default); the API checks them against the operator's maximum.
create function analytics.set_workspace_budget(p_max_tracked integer, p_max_fetches integer)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
    insert into analytics.workspace_budgets (workspace_id, max_tracked_videos, max_fetches_per_day)
    values (analytics.require_workspace_owner(), p_max_tracked, p_max_fetches)
    on conflict (workspace_id) do update
       set max_tracked_videos = excluded.max_tracked_videos, max_fetches_per_day = excluded.max_fetches_per_day,
           updated_at = now()
$$;

-- Called by a command in the transaction of its writes: charges p_fetches on-demand fetches to today's use and
-- checks the caps. The workspace's row is locked first, so concurrent commands of one workspace are checked one
-- after the other, each seeing what the previous one committed (no two pass the last slot). Returns the cap
-- exceeded, its limit, its use before the command and what the command asked for (the command then rolls back, charge included), or no row.
-- p_added: videos the command's writes started tracking (already in workspace_videos); p_reserve: videos it
-- will start tracking later (a blogger batch's limit), which need room now.
create function analytics.charge_workspace_budget(p_workspace_id uuid, p_fetches integer, p_added integer,
                                                  p_reserve integer, p_default_tracked integer,
                                                  p_max_tracked integer, p_default_fetches integer,
                                                  p_max_fetches integer)
returns table (cap text, cap_limit integer, used integer, requested integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics._budget_workspace(p_workspace_id, true);
    b record;
    fetched integer;
begin
    perform 1 from analytics.workspaces where id = ws for no key update;
    -- A new statement, so a new snapshot: it sees what a command that held the lock before committed.
    select * into b from analytics.workspace_budget(ws, p_default_tracked, p_max_tracked, p_default_fetches,
                                                    p_max_fetches);
    if (p_added > 0 or p_reserve > 0) and b.tracked_used + p_reserve > b.tracked_limit then
        return query select 'tracked_videos'::text, b.tracked_limit, b.tracked_used - p_added, p_added + p_reserve;
        return;
    end if;
    if p_fetches > 0 then
        insert into analytics.workspace_fetch_usage as u (workspace_id, day, fetches)
        values (ws, (now() at time zone 'UTC')::date, p_fetches)
        on conflict (workspace_id, day) do update set fetches = u.fetches + excluded.fetches
        returning u.fetches into fetched;
        if fetched > b.fetches_limit then
            return query select 'fetches_per_day'::text, b.fetches_limit, b.fetches_used, p_fetches;
        end if;
    end if;
end
$$;

-- ---- Sheets export targets ---------------------------------------------------------------------------------

create table analytics.workspace_export_targets (
    id                 uuid primary key default gen_random_uuid(),
    workspace_id       uuid not null references analytics.workspaces (id) on delete cascade,
    spreadsheet_id     text not null check (spreadsheet_id ~ '^[A-Za-z0-9_-]{10,200}$'),
    -- NULL: every campaign of the workspace, present and future; else these campaigns' worksheets.
    campaign_ids       uuid[] check (campaign_ids is null or cardinality(campaign_ids) between 1 and 100),
    include_all_videos boolean not null default true,
    created_at         timestamptz not null default now(),
    -- One workspace per spreadsheet: the export writes every target with one service account, so a second
    -- workspace naming the same id would overwrite the first one's tabs with its own data.
    unique (spreadsheet_id)
);
create index workspace_export_targets_workspace_id_idx on analytics.workspace_export_targets (workspace_id);
comment on table analytics.workspace_export_targets is
    'A workspace''s Google spreadsheet: its "All videos" worksheet and one per campaign (all, or those listed).';

alter table analytics.workspace_export_targets enable row level security;
create policy workspace_export_targets_export_select on analytics.workspace_export_targets
    for select to vidstats_export using (true);
grant select on analytics.workspace_export_targets to vidstats_export;

create function analytics.workspace_export_target_list()
returns table (id uuid, spreadsheet_id text, campaign_ids uuid[], include_all_videos boolean,
               created_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
    select t.id, t.spreadsheet_id, t.campaign_ids, t.include_all_videos, t.created_at
      from analytics.workspace_export_targets t
     where t.workspace_id = analytics.require_workspace_editor()
     order by t.created_at, t.id
$$;

-- Adds a target (its campaigns must be the workspace's: else the missing ids are returned, nothing is added);
-- NULL id when the spreadsheet is a target already (of this workspace or another).
create function analytics.add_workspace_export_target(p_spreadsheet_id text, p_campaign_ids uuid[],
                                                      p_include_all_videos boolean)
returns table (id uuid, missing_campaign_ids uuid[])
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.require_workspace_editor();
    missing uuid[];
    new_id uuid;
begin
    select array_agg(c order by c) into missing
      from unnest(coalesce(p_campaign_ids, '{}')) c
     where not exists (select 1 from analytics.campaigns k where k.id = c and k.workspace_id = ws);
    if missing is not null then
        return query select null::uuid, missing;
        return;
    end if;
    insert into analytics.workspace_export_targets (workspace_id, spreadsheet_id, campaign_ids, include_all_videos)
    values (ws, p_spreadsheet_id, p_campaign_ids, p_include_all_videos)
    on conflict (spreadsheet_id) do nothing
    returning workspace_export_targets.id into new_id;
    return query select new_id, null::uuid[];
end
$$;

create function analytics.remove_workspace_export_target(p_target_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    removed int;
begin
    delete from analytics.workspace_export_targets
     where id = p_target_id and workspace_id = analytics.require_workspace_editor();
    get diagnostics removed = row_count;
    return removed = 1;
end
$$;

-- ---- privileges ----------------------------------------------------------------------------------------------

revoke all on function analytics.require_workspace_owner(), analytics.workspace_member_list(),
    analytics.add_workspace_member(uuid, text, text, boolean), analytics._lock_last_owner(uuid, uuid),
    analytics.set_workspace_member_role(uuid, text), analytics.remove_workspace_member(uuid),
    analytics.accept_workspace_invitations(), analytics._budget_workspace(uuid, boolean),
    analytics.workspace_budget(uuid, integer, integer, integer, integer),
    analytics.set_workspace_budget(integer, integer),
    analytics.charge_workspace_budget(uuid, integer, integer, integer, integer, integer, integer, integer),
    analytics.workspace_export_target_list(), analytics.add_workspace_export_target(text, uuid[], boolean),
    analytics.remove_workspace_export_target(uuid)
    from public;
grant execute on function analytics.require_workspace_owner(), analytics.workspace_member_list(),
    analytics.add_workspace_member(uuid, text, text, boolean), analytics.set_workspace_member_role(uuid, text),
    analytics.remove_workspace_member(uuid), analytics.accept_workspace_invitations(),
    analytics.workspace_budget(uuid, integer, integer, integer, integer),
    analytics.set_workspace_budget(integer, integer),
    analytics.charge_workspace_budget(uuid, integer, integer, integer, integer, integer, integer, integer),
    analytics.workspace_export_target_list(), analytics.add_workspace_export_target(text, uuid[], boolean),
    analytics.remove_workspace_export_target(uuid)
    to vidstats_reader;
-- A tracking command's ingest transaction charges the budget next to its writes.
grant execute on function
    analytics.charge_workspace_budget(uuid, integer, integer, integer, integer, integer, integer, integer)
    to vidstats_ingest;
