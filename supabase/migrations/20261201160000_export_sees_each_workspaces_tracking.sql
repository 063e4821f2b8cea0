-- The export (role vidstats_export, which reads every workspace) writes one workspace's worksheets at a time and
-- names that workspace in request.headers (x-workspace-id), as the API's callers do: analytics.workspace_video_tracking
-- then shows it that workspace's own tracking (its start, its stop), so a client's sheet never shows when another
-- workspace started tracking the same video. Other roles are unchanged: a member's workspace, or a share link's.
create or replace function analytics.viewing_workspace_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(analytics.current_workspace_id(), analytics.current_share_workspace_id(),
                    -- the role set for the transaction (a security definer function does not change it)
                    case when current_setting('role', true) = 'vidstats_export'
                         then (current_setting('request.headers', true)::jsonb ->> 'x-workspace-id')::uuid end)
$$;
revoke all on function analytics.viewing_workspace_id() from public;
grant execute on function analytics.viewing_workspace_id() to vidstats_reader, vidstats_share, vidstats_export;
grant select on analytics.workspace_video_tracking to vidstats_export;
