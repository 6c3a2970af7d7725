"""The demo page's script: the session (supertokens-website) and, live, what it is about: the Fauna credential the
access token carries (masked) and its expiry as Fauna records it, the credential replaced at each refresh, and
what Fauna answers to the old one, asked with it: after a refresh and after sign-out. A Fauna token (``MODE``
"fauna") is refused once replaced or revoked; a gatepass JWT (``MODE`` "external") cannot be revoked, so Fauna
accepts it until its ``exp``, and the page says so. A sign-out in another tab (the cookies are shared) brings this
tab back to the login form."""

SCRIPT = """const FAUNA = __FAUNA__;
const JWT = __MODE__ === "external";  // users in the app's own database; Fauna trusts gatepass JWTs
const rawFetch = window.fetch.bind(window);  // before supertokens.init: Fauna requests must not carry session headers
const q = faunadb.query;
const $ = (id) => document.getElementById(id);
let view = "auth";  // the section shown: auth, app or after ("signing-out" while this tab signs out)
let refreshes = 0;
let accessExpiresAt = 0;
let faunaExpiresAt = 0;
let faunaSecret = null;  // the Fauna token of the newest access token this page has read

supertokens.init({
  apiDomain: window.location.origin,
  apiBasePath: "/auth",
  onHandleEvent: (event) => {
    if (event.action === "REFRESH_SESSION") setTimeout(afterRefresh, 0);  // after the SDK's refresh lock is free
    if (event.action === "UNAUTHORISED") setTimeout(checkSession, 0);
  },
});

function fauna(secret) { return new faunadb.Client({ secret, ...FAUNA, fetch: rawFetch }); }
function mask(secret) { return secret.slice(0, 4) + "…" + secret.slice(-4); }
function countdown(at) {
  const seconds = Math.round((at - Date.now()) / 1000);
  return seconds > 0 ? seconds + " s" : "expired";
}

function setView(name) {
  view = name;
  for (const section of ["auth", "app", "after"]) $(section).hidden = section !== name;
}

function forget() {
  refreshes = 0; accessExpiresAt = 0; faunaExpiresAt = 0; faunaSecret = null;
  for (const id of ["whoami", "user", "expiry", "fauna-token", "fauna-expiry", "lag", "fauna-event", "app-error"]) {
    $(id).textContent = "";
  }
  $("refreshes").textContent = "0";
}

// What Fauna itself records: the token's expiry (a token may read itself) and the user's email (its own document).
// For a JWT, CurrentToken() is its claims as Fauna verified them: the expiry (exp, seconds) and the email claim.
const ABOUT_ME = JWT
  ? q.Let(
    { claims: q.CurrentToken() },
    { ttl: q.Multiply(1000, q.Select("exp", q.Var("claims"))), email: q.Select("email", q.Var("claims"), "") }
  )
  : q.Let(
    { token: q.Get(q.CurrentToken()), me: q.Get(q.CurrentIdentity()) },
    { ttl: q.ToMillis(q.Select("ttl", q.Var("token"))), email: q.Select(["data", "email"], q.Var("me")) }
  );

// Fauna's answer to a secret: 200 if it accepts it, else the HTTP status of the refusal (0: Fauna unreachable).
async function faunaStatus(secret) {
  try {
    await fauna(secret).query(q.CurrentIdentity());
    return 200;
  } catch (error) {
    return error.requestResult ? error.requestResult.statusCode : 0;
  }
}

// A JWT, asked again: Fauna's answer (as faunaStatus) and, if it accepts it, the seconds left until its exp.
async function jwtAnswer(secret) {
  try {
    const exp = await fauna(secret).query(q.Select("exp", q.CurrentToken()));
    return { status: 200, seconds: Math.max(0, Math.round(exp - Date.now() / 1000)) };
  } catch (error) {
    return { status: error.requestResult ? error.requestResult.statusCode : 0 };
  }
}

async function readSession() {
  const payload = await supertokens.getAccessTokenPayloadSecurely();  // refreshes first if the token has expired
  accessExpiresAt = payload.exp * 1000;
  $("user").textContent = payload.sub;
  const secret = payload.faunadbToken;
  if (secret !== faunaSecret) {
    const old = faunaSecret;
    faunaSecret = secret;
    const about = await fauna(secret).query(ABOUT_ME);
    faunaExpiresAt = about.ttl;
    $("whoami").textContent = about.email;
    $("fauna-token").textContent = mask(secret);
    if (old) reportReplaced(old);
  }
  $("lag").textContent = Math.round((faunaExpiresAt - accessExpiresAt) / 1000) + " s";
  tick();
  return payload;
}

async function reportReplaced(old) {
  if (JWT) return reportReplacedJwt(old);
  const status = await faunaStatus(old);
  const time = new Date().toLocaleTimeString();
  $("fauna-event").textContent = status === 401
    ? time + ": Fauna token replaced at refresh; the old one is now refused by Fauna (401)."
    : time + ": Fauna token replaced at refresh, but Fauna answers " + status + " to the old one.";
}

async function reportReplacedJwt(old) {
  const answer = await jwtAnswer(old);
  const time = new Date().toLocaleTimeString();
  $("fauna-event").textContent = answer.status === 200
    ? time + ": Fauna JWT replaced at refresh; the old one stays valid until its exp (" + answer.seconds
      + " s): JWTs are not revocable, so they are short."
    : answer.status === 401
    ? time + ": Fauna JWT replaced at refresh; Fauna refuses the old one (401): it has expired."
    : time + ": Fauna JWT replaced at refresh; Fauna could not be asked about the old one (" + answer.status + ").";
}

async function afterRefresh() {
  if (view !== "app") return;
  refreshes += 1;
  $("refreshes").textContent = String(refreshes);
  try {
    await readSession();
  } catch (error) {
    $("app-error").textContent = "Could not read the new Fauna token's expiry from Fauna: " + error.message;
  }
}

function tick() {
  if (view !== "app" || !accessExpiresAt) return;
  $("expiry").textContent = countdown(accessExpiresAt);
  $("fauna-expiry").textContent = countdown(faunaExpiresAt);
}
setInterval(tick, 250);

// Signed out in another tab: the session's cookies are shared, so this tab finds its session gone. getUserId only
// reads the front-token cookie (doesSessionExist would refresh an expired session, making an idle tab busy).
let checking = false;
async function checkSession() {
  if (view !== "app" || checking) return;
  checking = true;
  let present = true;
  try {
    await supertokens.getUserId();
  } catch (error) {
    present = false;
  } finally {
    checking = false;
  }
  if (!present && view === "app") {
    forget();
    setView("auth");
    $("auth-note").textContent = "You were signed out (in another tab, or the session ended): log in again.";
  }
}
setInterval(checkSession, 1000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) checkSession(); });
window.addEventListener("focus", checkSession);

async function loadComments() {
  await readSession();
  const page = await fauna(faunaSecret).query(
    q.Map(q.Paginate(q.Documents(q.Collection("comments"))), q.Lambda("ref", q.Get(q.Var("ref"))))
  );
  const list = $("comments");
  list.innerHTML = "";
  for (const doc of page.data) {
    const item = document.createElement("li");
    item.dataset.id = doc.ref.id;
    item.innerHTML = '<p></p><span class="likes"></span><button>Like</button>';
    item.querySelector("p").innerHTML = '<span class="text"></span><br><small></small>';
    item.querySelector(".text").textContent = doc.data.text;
    item.querySelector("small").textContent = "— " + doc.data.author;
    item.querySelector(".likes").textContent = "♥ " + doc.data.likes;
    item.querySelector("button").addEventListener("click", () => like(doc.ref.id, item));
    list.appendChild(item);
  }
}

async function like(id, item) {
  $("app-error").textContent = "";
  const response = await fetch("/like-comment", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ commentId: id }),
  });
  const body = await response.json();
  if (!response.ok) { $("app-error").textContent = body.message || "Could not like"; return; }
  item.querySelector(".likes").textContent = "♥ " + body.likes;
  item.dataset.liked = "yes";
  await readSession();
}

async function authenticate(path) {
  $("auth-error").textContent = "";
  $("auth-note").textContent = "";
  const response = await fetch(path, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value }),
  });
  if (!response.ok) {
    const hint = path === "/login" && response.status === 401 ? " (new here? Sign up)" : "";
    $("auth-error").textContent = (await response.json()).message + hint;
    return;
  }
  forget();
  await show();
}

async function signOut() {
  view = "signing-out";  // so that the session check does not take this tab's own sign-out for another tab's
  const oldToken = (await supertokens.getAccessTokenPayloadSecurely()).faunadbToken;
  await supertokens.signOut();
  forget();
  $("refusal").textContent = JWT ? await jwtAfterSignOut(oldToken) : await tokenAfterSignOut(oldToken);
  setView("after");
}

async function tokenAfterSignOut(oldToken) {
  const status = await faunaStatus(oldToken);
  return status === 401 ? "Fauna refused the old token (401): revoked"
    : status === 200 ? "Fauna still accepts the old token (it should not)"
    : "Fauna could not be asked (" + status + ")";
}

async function jwtAfterSignOut(oldJwt) {
  const answer = await jwtAnswer(oldJwt);
  return answer.status === 200
    ? "Fauna still accepts the old JWT until it expires in " + answer.seconds + " s (a JWT cannot be revoked)"
    : answer.status === 401 ? "Fauna refused the old JWT (401): it has expired"
    : "Fauna could not be asked (" + answer.status + ")";
}

async function show() {
  if (!(await supertokens.doesSessionExist())) { setView("auth"); return; }
  setView("app");
  await loadComments();
}

$("auth-form").addEventListener("submit", (event) => {
  event.preventDefault();  // Enter in a field submits with the first button: Log in
  authenticate(event.submitter && event.submitter.id === "signup" ? "/signup" : "/login");
});
$("signout").addEventListener("click", signOut);
$("again").addEventListener("click", show);
show();
"""
