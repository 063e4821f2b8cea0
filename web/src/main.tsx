import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { whenUnauthorized } from "./api";
import type { AuthConfig, Session } from "./auth";
import { loadConfig, onSession, signOut, start } from "./auth";
import { CampaignScreen, CampaignsScreen } from "./campaigns";
import { CreatorScreen, CreatorsScreen } from "./creators";
import { PageViewsScreen } from "./page-views";
import { href, type Route, useRoute } from "./router";
import { SignIn } from "./signin";
import { TrackScreen } from "./track";
import { ErrorBox, Loading, useLoad } from "./components";
import { MembersScreen } from "./members";
import { SettingsScreen } from "./settings";
import { SharedScreen } from "./shared";
import type { Abilities, Access, Chosen, Workspace } from "./workspace";
import { AccessContext, abilities, chooseWorkspace, isAdminToken, rememberWorkspace, useAccess } from "./workspace";
import { VideoScreen } from "./video";
import { VideosScreen } from "./videos";
import "./style.css";

// The main menu: [label, link, route names, who sees it].
const NAV: [string, string, string[], (a: Abilities) => boolean][] = [
  ["Campaigns", href.campaigns(), ["campaigns", "campaign"], () => true],
  ["Videos", href.videos(), ["videos", "video"], () => true],
  ["Creators", href.creators(), ["creators", "creator"], () => true],
  ["Track videos", href.track(), ["track"], (a) => a.canEdit],
  ["Members", href.members(), ["members"], (a) => a.role === "owner"],
  ["Settings", href.settings(), ["settings"], (a) => a.role !== null],
  ["Page views", href.pageViews(), ["page-views"], (a) => a.admin],
];
const DETAIL: Record<string, string> = { campaign: href.campaigns(), video: href.videos(), creator: href.creators() };

function Screen({ route }: { route: Route }) {
  const access = useAccess();
  switch (route.name) {
    case "campaigns": return <CampaignsScreen />;
    case "campaign": return <CampaignScreen id={route.params.id} key={route.params.id} />;
    case "videos": return <VideosScreen />;
    case "video": return <VideoScreen id={route.params.id} key={route.params.id} />;
    case "creators": return <CreatorsScreen />;
    case "creator": return <CreatorScreen id={route.params.id} key={route.params.id} />;
    case "track": return access.canEdit ? <TrackScreen /> : <NotAllowed what="Tracking videos" />;
    case "page-views": return <PageViewsScreen />;
    case "members": return access.role === "owner" ? <MembersScreen /> : <NotAllowed what="Members" />;
    case "settings": return <SettingsScreen />;
    default: return <section class="page"><h1>Not found</h1><p><a href={href.campaigns()}>Back to campaigns</a></p></section>;
  }
}

function NotAllowed({ what }: { what: string }) {
  const { role } = useAccess();
  return <section class="page"><h1>{what}</h1>
    <p class="state">{what} is not available to you in this workspace (your role: {role}).</p></section>;
}

function WorkspaceSwitcher({ chosen, onSwitch }: { chosen: Chosen; onSwitch: (w: Workspace) => void }) {
  if (!chosen.current) return null;
  return (
    <label class="field switcher" for="workspace-switcher">
      <span>Workspace</span>
      <select id="workspace-switcher" value={chosen.current.id}
        onChange={(e) => onSwitch(chosen.all.find((w) => w.id === (e.target as HTMLSelectElement).value)!)}>
        {chosen.all.map((w) => <option key={w.id} value={w.id}>{w.name} ({w.role})</option>)}
      </select>
    </label>
  );
}

function Layout({ session }: { session: Session }) {
  const route = useRoute();
  const loaded = useLoad(() => chooseWorkspace(), [session.token]);
  const [switched, setSwitched] = useState<Workspace | null>(null);
  const chosen: Chosen | null = loaded.data
    ? { all: loaded.data.all, current: loaded.data.all.find((w) => w.id === switched?.id) ?? loaded.data.current }
    : null;
  const access: Access = { role: chosen?.current?.role ?? null, admin: isAdminToken(session.token) };
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {  // move focus to the new screen, for keyboard and screen-reader users
    if (first.current) { first.current = false; return; }
    main.current?.focus();
  }, [route.name, route.params.id]);
  const switchTo = (workspace: Workspace) => {
    rememberWorkspace(workspace.id);
    setSwitched(workspace);
    // A campaign, video or creator belongs to one workspace: after a switch, its list.
    if (DETAIL[route.name]) location.hash = DETAIL[route.name];
  };
  const inNone = chosen !== null && !chosen.current;
  return (
    <AccessContext.Provider value={access}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href={href.campaigns()}>vidstats</a>
        {inNone ? null : (
          <nav aria-label="Main">
            {NAV.filter(([, , , shown]) => shown(abilities(access))).map(([label, link, names]) => (
              <a key={link} href={link} aria-current={names.includes(route.name) ? "page" : undefined}>{label}</a>))}
          </nav>)}
        <div class="workspace-slot" data-testid="workspace-slot">
          {chosen ? <WorkspaceSwitcher chosen={chosen} onSwitch={switchTo} /> : null}
        </div>
        <div class="user">
          <span title={session.kind === "development" ? "development sign-in" : "signed in"}>{session.email}</span>
          <button type="button" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {loaded.error ? <ErrorBox error={loaded.error} retry={loaded.reload} />
          : loaded.loading && !loaded.data ? <Loading what="your workspace" />
          : inNone ? <NoWorkspace email={session.email} />
          : <Screen route={route} key={chosen?.current?.id ?? "none"} />}
      </main>
    </AccessContext.Provider>
  );
}

function NoWorkspace({ email }: { email: string }) {
  return (
    <section class="page" data-testid="no-workspace">
      <h1>No workspace yet</h1>
      <p class="state">You ({email}) are not a member of any workspace yet. Ask a workspace owner to invite this
        address (Members, Invite); the workspace appears here once they have.</p>
    </section>
  );
}

function App({ config, initial }: { config: AuthConfig | null; initial: Session | null }) {
  const [session, setSession] = useState<Session | null>(initial);
  const route = useRoute();
  useEffect(() => {
    onSession(setSession);
    whenUnauthorized(() => { signOut(); });
  }, []);
  // A share link's page needs no account: it reads only the link's own routes.
  if (route.name === "shared") return <SharedScreen token={route.params.token} key={route.params.token} />;
  return session ? <Layout session={session} /> : <SignIn config={config} />;
}

async function boot(): Promise<void> {
  const config = await loadConfig();
  const session = await start(config);
  const root = document.getElementById("app")!;
  root.textContent = "";  // the "Loading" line of index.html
  render(<App config={config} initial={session} />, root);
}

boot();
