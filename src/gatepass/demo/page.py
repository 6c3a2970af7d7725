"""The demo's single page: supertokens-website for the session, the faunadb JS driver for reading comments
straight from Fauna with the user's own token (step 6 of the guide). Its script is in ``script``."""

from __future__ import annotations

import json

from gatepass.demo.script import SCRIPT

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatepass × FaunaDB</title>
<link rel="icon" href="data:,">
<style>
  :root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --accent: #4f46e5; --ok: #067647; --bad: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
         background: #f7f8fa; }
  header { background: var(--ink); color: white; padding: 20px 32px; }
  header h1 { margin: 0; font-size: 22px; }
  header p { margin: 4px 0 0; color: #c7cbe0; }
  main { max-width: 760px; margin: 24px auto; padding: 0 16px; }
  .card { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 20px; margin-bottom: 16px; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  label { display: block; font-size: 13px; color: var(--muted); margin-top: 8px; }
  input { width: 100%; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
  button { font: inherit; border: 0; border-radius: 6px; padding: 8px 14px; cursor: pointer;
           background: var(--accent); color: white; }
  button.secondary { background: white; color: var(--accent); border: 1px solid var(--accent); }
  .row { display: flex; gap: 8px; margin-top: 12px; align-items: center; }
  .status { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; }
  .status div { background: #f2f4f7; border-radius: 8px; padding: 10px; }
  .status b { display: block; font-size: 18px; }
  .status small { display: block; color: var(--muted); }
  /* a countdown keeps its box as its text changes ("12 s", "9 s", "expired"): nothing around it moves */
  .timer { width: 8ch; height: 1.5em; overflow: hidden; white-space: nowrap; font-variant-numeric: tabular-nums; }
  .who { margin: 0 0 12px; overflow-wrap: anywhere; }
  .who small { color: var(--muted); }
  .event { color: var(--ok); min-height: 1.5em; margin: 12px 0 0; }
  .note { color: var(--muted); min-height: 1.5em; margin: 8px 0 0; }
  #comments { list-style: none; padding: 0; margin: 0; }
  #comments li { display: flex; gap: 12px; align-items: center; padding: 10px 0; border-top: 1px solid var(--line); }
  #comments li:first-child { border-top: 0; }
  #comments li p { margin: 0; flex: 1; }
  #comments li small { color: var(--muted); }
  .likes { min-width: 56px; text-align: right; font-weight: 600; }
  .error { color: var(--bad); min-height: 1.5em; margin: 8px 0 0; }
  .ok { color: var(--ok); }
  code { background: #f2f4f7; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
  ol { margin: 0; padding-left: 20px; color: var(--muted); }
  ol li { padding: 2px 0; }
  [hidden] { display: none !important; }
</style>
<script src="/static/faunadb.js"></script>
<script src="/static/supertokens.js"></script>
</head>
<body>
<header>
  <h1>gatepass × FaunaDB</h1>
  <p>__TAGLINE__</p>
  <p id="users-mode">__USERS__</p>
</header>
<main>
  <section class="card" id="auth">
    <h2>Log in or sign up</h2>
    <form id="auth-form">
      <label for="email">Email</label>
      <input id="email" type="email" autocomplete="username" placeholder="you@example.com">
      <label for="password">Password</label><input id="password" type="password" autocomplete="current-password">
      <div class="row">
        <button id="login" type="submit">Log in</button>
        <button id="signup" type="submit" class="secondary">Sign up</button>
      </div>
    </form>
    <p class="note" id="auth-note"></p>
    <p class="error" id="auth-error"></p>
  </section>

  <section id="app" hidden>
    <div class="card">
      <h2>Your session</h2>
      <p class="who">Signed in as <b id="whoami"></b> <small>(__USER_LABEL__ <span id="user"></span>)</small></p>
      <div class="status">
        <div><small>Access token expires in</small><b id="expiry" class="timer"></b>
          <small>then renewed at the next call</small></div>
        <div><small>__CREDENTIAL__ <code id="fauna-token"></code> expires in</small>
          <b id="fauna-expiry" class="timer"></b>
          <small>__EXPIRY_LABEL__: <span id="lag"></span> after the access token</small></div>
        <div><small>Automatic refreshes</small><b id="refreshes">0</b>
          <small>each one replaces the __CREDENTIAL__</small></div>
      </div>
      <p class="event" id="fauna-event"></p>
      <div class="row"><button id="signout" class="secondary">Sign out</button></div>
    </div>
    <div class="card">
      <h2>Comments <small>(read by your browser straight from Fauna, with your session's __CREDENTIAL__)</small></h2>
      <ul id="comments"></ul>
      <p class="error" id="app-error"></p>
    </div>
  </section>

  <section class="card" id="after" hidden>
    <h2>Signed out</h2>
    <p>__AFTER__</p>
    <p><code id="refusal"></code></p>
    <div class="row"><button id="again">Log in again</button></div>
  </section>

  <section class="card">
    <h2>The guide's six steps</h2>
    <ol>
__STEPS__
    </ol>
  </section>
</main>
<script>
__SCRIPT__</script>
</body>
</html>
"""


FAUNA_USERS = {
    "__TAGLINE__": "Sessions by gatepass; every session carries its own Fauna token, renewed on refresh and revoked "
    "on sign-out.",
    "__USERS__": "Users: in Fauna",
    "__USER_LABEL__": "Fauna user",
    "__CREDENTIAL__": "Fauna token",
    "__CREDENTIAL_LOWER__": "Fauna token",
    "__EXPIRY_LABEL__": "Fauna's ttl",
    "__AFTER__": "Your session was revoked, and with it its Fauna token. Asked again with that token, Fauna answers:",
    "__STEPS__": """\
      <li>Fauna: a <code>users</code> collection, a <code>users_by_email</code> index, <code>comments</code>.</li>
      <li>A role: a user's token may read comments and like them.</li>
      <li>The backend uses <code>faunadb.init(...)</code> instead of <code>session.init(...)</code>.</li>
      <li>Login checks the password in Fauna, then <code>create_new_session</code> with the user's document id.</li>
      <li>Liking goes through the backend, which uses <code>get_faunadb_token()</code> to act as you.</li>
      <li>This page reads comments from Fauna with <code>faunadbToken</code> from the session payload.</li>""",
}
EXTERNAL_USERS = {
    "__TAGLINE__": "Sessions by gatepass; every session carries a short-lived gatepass JWT that Fauna trusts, "
    "renewed on refresh; a JWT cannot be revoked, so it lives only a little longer than its access token.",
    "__USERS__": "Users: in the app's own database; Fauna trusts gatepass JWTs",
    "__USER_LABEL__": "user in the app's database:",
    "__CREDENTIAL__": "Fauna JWT",
    "__CREDENTIAL_LOWER__": "Fauna JWT",
    "__EXPIRY_LABEL__": "the JWT's exp",
    "__AFTER__": "Your session was revoked. Its Fauna JWT cannot be: it is valid until its exp. Asked again with "
    "that JWT, Fauna answers:",
    "__STEPS__": """\
      <li>Fauna: <code>comments</code>, and no users: they live in the app's own SQLite table.</li>
      <li>A role with no members, granted by an AccessProvider that trusts gatepass's JWKS: a gatepass JWT may read
        comments and like them.</li>
      <li>The backend uses <code>faunadb.init_with_access_provider(...)</code> instead of
        <code>session.init(...)</code>.</li>
      <li>Login checks the password (scrypt) in the app's table, then <code>create_new_session</code> with the
        user's id.</li>
      <li>Liking goes through the backend, which sends Fauna the JWT from <code>get_faunadb_token()</code>.</li>
      <li>This page reads comments from Fauna with <code>faunadbToken</code> from the session payload: the JWT.</li>""",
}
TEXTS = {"fauna": FAUNA_USERS, "external": EXTERNAL_USERS}


def render_page(fauna_domain: str, fauna_port: int, fauna_scheme: str = "http", users: str = "fauna") -> str:
    """The demo page, told where the browser reaches the Fauna dev server and where the users live (``fauna``
    or ``external``)."""
    settings = json.dumps({"domain": fauna_domain, "port": fauna_port, "scheme": fauna_scheme})
    script = SCRIPT.replace("__FAUNA__", settings.replace("</", "<\\/"))  # safe inside <script>
    script = script.replace("__MODE__", json.dumps(users))
    page = PAGE
    for placeholder, text in TEXTS[users].items():
        page = page.replace(placeholder, text)
    return page.replace("__SCRIPT__", script)
