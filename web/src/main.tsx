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
import { chooseWorkspace } from "./workspace";
import { VideoScreen } from "./video";
import "./style.css";

const NAV: [string, string, string[]][] = [
  ["Campaigns", href.campaigns(), ["campaigns", "campaign"]],
  ["Creators", href.creators(), ["creators", "creator"]],
  ["Track videos", href.track(), ["track"]],
  ["Page views", href.pageViews(), ["page-views"]],
];

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case "campaigns": return <CampaignsScreen />;
    case "campaign": return <CampaignScreen id={route.params.id} key={route.params.id} />;
    case "video": return <VideoScreen id={route.params.id} key={route.params.id} />;
    case "creators": return <CreatorsScreen />;
    case "creator": return <CreatorScreen id={route.params.id} key={route.params.id} />;
    case "track": return <TrackScreen />;
    case "page-views": return <PageViewsScreen />;
    default: return <section class="page"><h1>Not found</h1><p><a href={href.campaigns()}>Back to campaigns</a></p></section>;
  }
}

function Layout({ session }: { session: Session }) {
  const route = useRoute();
  const workspace = useLoad(() => chooseWorkspace(), [session.token]);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {  // move focus to the new screen, for keyboard and screen-reader users
    if (first.current) { first.current = false; return; }
    main.current?.focus();
  }, [route.name, route.params.id]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href={href.campaigns()}>vidstats</a>
        <nav aria-label="Main">
          {NAV.map(([label, link, names]) => (
            <a key={link} href={link} aria-current={names.includes(route.name) ? "page" : undefined}>{label}</a>))}
        </nav>
        {/* The workspace switcher goes here (workspace.ts: GET /me, rememberWorkspace). */}
        <div class="workspace-slot" data-testid="workspace-slot">
          {workspace.data?.current ? <span title={`your role: ${workspace.data.current.role}`}>
            {workspace.data.current.name}</span> : null}
        </div>
        <div class="user">
          <span title={session.kind === "development" ? "development sign-in" : "signed in"}>{session.email}</span>
          <button type="button" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {workspace.error ? <ErrorBox error={workspace.error} retry={workspace.reload} />
          : workspace.loading ? <Loading what="your workspace" />
          : workspace.data && !workspace.data.current
            ? <p class="state">You are not a member of any workspace yet: ask a workspace owner to add you.</p>
            : <Screen route={route} />}
      </main>
    </>
  );
}

function App({ config, initial }: { config: AuthConfig | null; initial: Session | null }) {
  const [session, setSession] = useState<Session | null>(initial);
  useEffect(() => {
    onSession(setSession);
    whenUnauthorized(() => { signOut(); });
  }, []);
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
