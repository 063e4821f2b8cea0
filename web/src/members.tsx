// Members and invitations (owners): GET/POST /workspace/members, PATCH/DELETE /workspace/members/{user_id}.
// The API's refusals (the last owner: 409; invitations not configured: 409; Supabase Auth's reasons) are shown
// as the API words them.
import { useState } from "preact/hooks";
import { del, get, patch, post } from "./api";
import { ErrorBox, Loading, Page, useLoad } from "./components";
import { day } from "./format";
import type { Role } from "./workspace";

interface Member {
  user_id: string; email: string | null; role: Role; status: "active" | "pending"; added_at: string;
  invited_at: string | null;
}
const ROLES: [Role, string][] = [["viewer", "Viewer (reads)"], ["editor", "Editor (tracks, exports, shares)"],
  ["owner", "Owner (everything, members, budget)"]];

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await what());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}

function Invite({ invited }: { invited: () => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    action.run(async () => {
      const answer = await post<{ member: Member; invitation_sent: boolean }>("/workspace/members", { email, role });
      invited();
      setEmail("");
      return answer.invitation_sent
        ? `Invited ${email} as ${role}: Supabase Auth e-mailed them a link; pending until they sign in.`
        : `${email} already has an account: added as ${role}.`;
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-labelledby="invite-title">
      <h2 id="invite-title">Invite by e-mail</h2>
      <div class="controls">
        <label class="field" for="invite-email"><span>E-mail</span>
          <input id="invite-email" type="email" required value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)} /></label>
        <label class="field" for="invite-role"><span>Role</span>
          <select id="invite-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
            {ROLES.map(([v, text]) => <option key={v} value={v}>{text}</option>)}</select></label>
        <button type="submit" disabled={action.busy || !email}>{action.busy ? "Inviting…" : "Invite"}</button>
      </div>
      {action.error ? <ErrorBox error={action.error} /> : null}
      {action.done ? <p class="note" role="status">{action.done}</p> : null}
    </form>
  );
}

function MemberRow({ member, changed }: { member: Member; changed: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const who = member.email ?? `user ${member.user_id}`;
  const setRole = (role: Role) => action.run(async () => {
    await patch(`/workspace/members/${member.user_id}`, { role });
    changed();
    return `${who} is now ${role}.`;
  });
  const remove = () => action.run(async () => {
    await del(`/workspace/members/${member.user_id}`);
    setConfirming(false);
    changed();
    return `${who} removed.`;
  });
  return (
    <tr data-user-id={member.user_id}>
      <th scope="row">{who}</th>
      <td>
        <label class="visually-hidden" for={`role-${member.user_id}`}>Role of {who}</label>
        <select id={`role-${member.user_id}`} value={member.role} disabled={action.busy}
          onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
          {ROLES.map(([v]) => <option key={v} value={v}>{v}</option>)}</select>
      </td>
      <td><span class={`badge ${member.status === "active" ? "fresh" : "stale"}`}>{member.status}</span></td>
      <td>{day(member.added_at)}{member.invited_at ? ` (invited ${day(member.invited_at)})` : ""}</td>
      <td class="row-actions">
        {confirming ? <>
          <button type="button" class="danger" onClick={remove} disabled={action.busy}>Yes, remove {who}</button>
          <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </> : <button type="button" onClick={() => setConfirming(true)} aria-label={`Remove ${who}`}>Remove</button>}
        {action.error ? <ErrorBox error={action.error} /> : null}
      </td>
    </tr>
  );
}

export function MembersScreen() {
  const members = useLoad(() => get<{ items: Member[] }>("/workspace/members"), []);
  return (
    <Page title="Members">
      {members.error ? <ErrorBox error={members.error} retry={members.reload} /> : null}
      {!members.data ? (members.loading ? <Loading what="the members" /> : null) : (
        <div class="table-wrap">
          <table class="data" data-testid="members">
            <caption>{members.data.items.length} members: pending ones were invited and have not signed in yet</caption>
            <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Status</th>
              <th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>{members.data.items.map((m) => <MemberRow key={`${m.user_id}-${m.role}`} member={m}
              changed={members.reload} />)}</tbody>
          </table>
        </div>)}
      <Invite invited={members.reload} />
    </Page>
  );
}
