// The SCIM request shapes Okta and Entra ID document sending (tests/Tessera.Tests/Directory/Fixtures, described in
// the README there), replayed over real HTTP with Node's fetch: placeholders filled, a membership item repeated once
// per member, the answer checked against what the file expects. The xunit contract tests replay the same files.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../tests/Tessera.Tests/Directory/Fixtures/', import.meta.url));
const PLACEHOLDER = /\{(userId|userName|email|externalId|managerId|groupId|groupName|groupExternalId|memberId|memberUserName|random)\}/g;

/** The fixture names of a provider (file names without .json), sorted. */
export async function fixtureNames(provider) {
  return (await readdir(`${FIXTURES}${provider}`)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export async function loadFixture(provider, name) {
  const fixture = JSON.parse(await readFile(`${FIXTURES}${provider}/${name}.json`, 'utf8'));
  assert.ok(fixture.description && fixture.source, `${provider}/${name} has a description and a source`);
  return { ...fixture, label: `${provider}/${name}` };
}

function fill(text, values) {
  return text.replace(PLACEHOLDER, (match, name) => {
    if (name === 'random') return randomUUID();
    if (!(name in values)) throw new Error(`no value for the placeholder ${match}`);
    return values[name];
  });
}

function filled(node, values) {
  if (typeof node === 'string') return fill(node, values);
  if (Array.isArray(node)) return node.map((item) => filled(item, values));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, filled(v, values)]));
  return node;
}

/** RFC 6901 JSON Pointer; undefined when nothing is there. */
export function pointer(root, path) {
  let node = root;
  for (const token of path.split('/').slice(1).map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))) {
    if (node === null || typeof node !== 'object' || !(token in node)) return undefined;
    node = node[token];
  }

  return node;
}

/** The path relative to the SCIM base with placeholders filled and query values URL-encoded. */
function relativeUrl(path, values) {
  const [route, query] = fill(path, values).split('?');
  if (query === undefined) return route;
  const encoded = query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? pair : `${pair.slice(0, at)}=${encodeURIComponent(pair.slice(at + 1))}`;
  });
  return `${route}?${encoded.join('&')}`;
}

function requestBody(fixture, values, members) {
  if (fixture.body === undefined) return undefined;
  const body = structuredClone(fixture.body);
  if (fixture.repeat) {
    const list = pointer(body, fixture.repeat);
    assert.ok(Array.isArray(list) && list.length === 1, `${fixture.label}: ${fixture.repeat} is a one-item array`);
    assert.ok(members, `${fixture.label} repeats an item per member; give the members`);
    const [template] = list.splice(0, 1);
    for (const { id, userName } of members) list.push(filled(template, { ...values, memberId: id, memberUserName: userName }));
  }

  return filled(body, values);
}

/** A SCIM client of one organization's service, as an IdP's provisioning connector is. */
export function scimClient({ baseUrl, token }) {
  return {
    async send(method, path, body) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json; charset=utf-8' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      return { status: response.status, contentType: response.headers.get('content-type'), json: text ? JSON.parse(text) : undefined };
    },
  };
}

/** Sends a fixture's request and checks the status and the facts it expects of the answer. */
export async function replay(scim, fixture, values, members) {
  const response = await scim.send(fixture.method, relativeUrl(fixture.path, values), requestBody(fixture, values, members));
  const shown = `${response.status} ${JSON.stringify(response.json)?.slice(0, 2000)}`;
  assert.equal(response.status, fixture.expect.status, `${fixture.label}: ${shown}`);
  if (response.json !== undefined) assert.match(response.contentType ?? '', /^application\/scim\+json/, `${fixture.label}: content type`);
  for (const [path, expected] of Object.entries(fixture.expect.body ?? {})) {
    assert.deepEqual(pointer(response.json, path), filled(expected, values), `${fixture.label}: ${path} in ${shown}`);
  }

  for (const path of fixture.expect.absent ?? []) {
    assert.equal(pointer(response.json, path), undefined, `${fixture.label}: ${path} is absent in ${shown}`);
  }

  return response;
}

/** One provider's replay: its values, and which of its fixtures have been sent. */
export class Replay {
  constructor(provider, scim) {
    this.provider = provider;
    this.scim = scim;
    this.values = {};
    this.replayed = new Set();
  }

  async step(name, members) {
    this.replayed.add(name);
    return replay(this.scim, await loadFixture(this.provider, name), this.values, members);
  }

  /** Provisions users with the provider's own create request, each with its own name. */
  async createUsers(name, count, prefix) {
    const fixture = await loadFixture(this.provider, name);
    const users = [];
    for (let i = 0; i < count; i += 1) {
      const userName = `${prefix}.${String(i).padStart(3, '0')}@stmarys.example`;
      const values = { userName, email: userName, externalId: `${prefix}-${i}` };
      users.push({ id: (await replay(this.scim, fixture, values)).json.id, userName });
    }

    return users;
  }

  async assertEveryShapeReplayed() {
    assert.deepEqual([...this.replayed].sort(), await fixtureNames(this.provider));
  }
}
