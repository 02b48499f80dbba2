import { runTgwh } from "./tgwh";

/** Creates a service account with the CLI on the binary's database and returns its token. */
export async function createToken(dbPath: string, name: string, role: string): Promise<string> {
  const res = await runTgwh(["token", "create", "--name", name, "--role", role, "--json"], { TGWH_DB: dbPath });
  if (res.code !== 0) throw new Error(`token create failed (${res.code}): ${res.stderr}`);
  return (JSON.parse(res.stdout) as { token: string }).token;
}

export interface AdminResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Calls the admin API with an optional bearer token; keeps every body for the no-secrets check. */
export function createAdminClient(baseUrl: string, seen: string[] = []) {
  return {
    seen,
    async call(method: string, path: string, token: string | null, body?: unknown): Promise<AdminResponse> {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
      const answer = await answerOf(res);
      seen.push(answer.text);
      return answer;
    },
  };
}

/** A response read whole: its text, and its JSON when it is JSON (else null). */
export async function answerOf(res: Response): Promise<AdminResponse> {
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}
