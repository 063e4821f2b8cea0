// Hash routes (#/campaigns/…): the API owns every path of this origin, the page only "/".
import { useEffect, useState } from "preact/hooks";

export interface Route { name: string; params: Record<string, string> }

const ROUTES: [string, RegExp][] = [
  ["campaigns", /^\/?$/],
  ["campaigns", /^\/campaigns$/],
  ["campaign", /^\/campaigns\/(?<id>[^/]+)$/],
  ["videos", /^\/videos$/],
  ["video", /^\/videos\/(?<id>[^/]+)$/],
  ["creators", /^\/creators$/],
  ["creator", /^\/creators\/(?<id>[^/]+)$/],
  ["track", /^\/track$/],
  ["page-views", /^\/page-views$/],
  ["members", /^\/members$/],
  ["settings", /^\/settings$/],
  ["shared", /^\/shared\/(?<token>[^/]+)$/],
];

export function parse(hash: string): Route {
  const path = hash.replace(/^#/, "").split("?")[0];
  for (const [name, pattern] of ROUTES) {
    const found = pattern.exec(path);
    if (found) return { name, params: { ...(found.groups ?? {}) } };
  }
  return { name: "not-found", params: {} };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parse(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

export const href = {
  campaigns: () => "#/campaigns",
  campaign: (id: string) => `#/campaigns/${id}`,
  videos: () => "#/videos",
  video: (id: string) => `#/videos/${id}`,
  creators: () => "#/creators",
  creator: (id: string) => `#/creators/${id}`,
  track: () => "#/track",
  pageViews: () => "#/page-views",
  members: () => "#/members",
  settings: () => "#/settings",
  shared: (token: string) => `#/shared/${token}`,
};
