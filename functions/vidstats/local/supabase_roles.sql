-- Makes a plain PostgreSQL cluster look like a Supabase project where it matters to vidstats: the Data API
-- roles exist, and the project owner `supabase_postgres` is, like Supabase's `postgres`, a login role that
-- is NOT a superuser (CREATEROLE, CREATEDB, BYPASSRLS) and administers the API roles.
-- Idempotent; run as a superuser. (On Supabase itself this is already so and this file is not used.)
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_postgres') then
        create role supabase_postgres login nosuperuser createrole createdb replication bypassrls;
    end if;
end
$$;
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;
grant anon, authenticated, service_role to authenticator;
do $$
begin
    if current_setting('server_version_num')::int >= 160000 then
        execute 'grant anon, authenticated, service_role to supabase_postgres with admin option';
    else
        execute 'grant anon, authenticated, service_role to supabase_postgres';
    end if;
end
$$;
