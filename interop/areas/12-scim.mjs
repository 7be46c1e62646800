import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { oauthError, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, USER_SCOPE } from '../lib/harness.mjs';
import { Replay, scimClient } from '../lib/scim-fixtures.mjs';

/** Members pushed into one group: hundreds, as large directories send them. */
const GROUP_SIZE = 200;

async function signInAs(env, account, email) {
  const config = await env.client('app-one');
  const { tokens } = await signIn(env.browser(), config, {
    redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account, parameters: { login_hint: email },
  });
  return { config, tokens };
}

/** Right after the deactivating answer: the refresh token is refused and the access token introspects inactive. */
async function assertCutOff(env, { config, tokens }) {
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), oauthError('invalid_grant'), 'refresh is refused');
  const reports = await env.client('reports-api');
  assert.deepEqual({ ...await client.tokenIntrospection(reports, tokens.access_token) }, { active: false });
}

export default () => describe('12. SCIM (Okta and Entra ID request shapes, Node fetch)', { timeout: AREA_TIMEOUT_MS * 3 }, () => {
  test("Okta's provisioning and Group Push, replayed from its documented requests", async () => {
    const env = environment();
    const okta = new Replay('okta', scimClient(env.scim));
    Object.assign(okta.values, { userName: 'carol@stmarys.example', email: 'carol@stmarys.example', externalId: '00u1ok7a0carol' });

    await okta.step('01-test-connection');
    await okta.step('02-find-user-none');
    okta.values.userId = (await okta.step('03-create-user')).json.id;
    await okta.step('04-find-user');
    await okta.step('05-get-user');
    await okta.step('06-get-unknown-user');
    await okta.step('07-replace-user');

    // Provisioned first, signed in later: the sign-in is the provisioned user; deactivation cuts it off at once.
    const session = await signInAs(env, 'stm-1003', 'carol@stmarys.example');
    assert.equal(session.tokens.claims().sub, okta.values.userId);
    await okta.step('08-deactivate-user-patch');
    await assertCutOff(env, session);
    await okta.step('09-reactivate-user-patch');
    await okta.step('10-deactivate-user-put');
    await okta.step('11-reactivate-user-put');

    const members = [{ id: okta.values.userId, userName: okta.values.userName }, ...await okta.createUsers('03-create-user', GROUP_SIZE, 'okta')];
    okta.values.groupName = 'Ward 7 Nurses';
    okta.values.groupId = (await okta.step('12-create-group')).json.id;
    await okta.step('13-add-members', members);
    await okta.step('14-remove-members', members.slice(-50));
    assert.equal((await okta.step('17-get-group')).json.members.length, members.length - 50);
    okta.values.groupName = 'Ward 7 Nursing';
    await okta.step('15-rename-group');
    await okta.step('16-replace-members', members.slice(0, 20));
    assert.equal((await okta.step('17-get-group')).json.members.length, 20);
    await okta.step('18-list-groups');
    await okta.step('19-delete-group');
    await okta.assertEveryShapeReplayed();
  });

  test("Entra ID's provisioning and group sync, replayed from its documented requests", async () => {
    const env = environment();
    const entra = new Replay('entra', scimClient(env.scim));
    Object.assign(entra.values, { userName: 'dmitri@stmarys.example', email: 'dmitri@stmarys.example', externalId: 'dmitri' });

    // Signed in first, provisioned later: the SCIM user is the user who signed in.
    const session = await signInAs(env, 'stm-1004', 'dmitri@stmarys.example');

    await entra.step('01-test-connection');
    await entra.step('29-discover-schemas');
    await entra.step('19-group-probe');
    await entra.step('02-find-user-none');
    entra.values.userId = (await entra.step('03-create-user')).json.id;
    assert.equal(entra.values.userId, session.tokens.claims().sub);
    await entra.step('04-find-user');
    await entra.step('05-find-user-by-external-id');
    await entra.step('06-get-user');

    entra.values.email = 'dmitri.petrov@stmarys.example';
    await entra.step('07-update-user-multivalued');
    entra.values.userName = 'dmitri.petrov@stmarys.example';
    await entra.step('08-update-user-name');
    await entra.step('09-replace-attributes');
    await entra.step('10-replace-attributes-without-path');
    await entra.step('11-add-attribute');
    [{ id: entra.values.managerId }] = await entra.createUsers('03-create-user', 1, 'manager');
    await entra.step('12-add-manager');
    await entra.step('13-replace-manager-object');

    await entra.step('14-disable-user');
    await assertCutOff(env, session);
    await entra.step('15-enable-user');
    await entra.step('16-disable-user-boolean');
    await entra.step('15-enable-user');

    Object.assign(entra.values, { groupName: 'Radiology Registrars', groupExternalId: crypto.randomUUID() });
    entra.values.groupId = (await entra.step('20-create-group')).json.id;
    await entra.step('21-get-group');
    await entra.step('22-find-group-by-display-name');
    await entra.step('23-find-group-by-external-id');
    const members = await entra.createUsers('03-create-user', GROUP_SIZE, 'entra');
    await entra.step('24-add-members', members);
    await entra.step('25-remove-members', members.slice(0, 50));
    await entra.step('26-remove-members-by-filter', members.slice(50, 75));
    entra.values.groupName = 'Radiology Registrars 2';
    await entra.step('27-rename-group');
    await entra.step('28-delete-group');

    await entra.step('17-delete-user');
    await entra.step('18-get-deleted-user');
    await entra.assertEveryShapeReplayed();
  });
});
