/// The console's Mustache templates, compiled into the binary (nothing is read from disk
/// at run time, so the console is the same wherever `vigil` is copied).
enum Templates {
    /// Every page's frame: navigation, who is signed in, sign-out; `body` is the page.
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Vigil console</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        </head>
        <body data-page="{{page}}">
        <header class="top">
          <a class="brand" href="/console">Vigil</a>
          {{#user}}
          <nav aria-label="Console">
            {{#nav}}<a href="{{href}}"{{#active}} aria-current="page"{{/active}}>{{label}}</a>{{/nav}}
          </nav>
          <div class="who">
            <span class="name" id="signed-in-as">{{name}}</span> <span class="role role-{{role}}">{{role}}</span>
            <form method="post" action="/console/sign-out" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}">
              <button type="submit" class="link" id="sign-out">Sign out</button>
            </form>
          </div>
          {{/user}}
        </header>
        <main>
        {{{body}}}
        </main>
        <script src="/console/assets/console.js"></script>
        </body>
        </html>
        """

    /// The sign-in form: an API token in, a session cookie out.
    static let signIn = """
        <section class="narrow">
        <h1>Sign in</h1>
        {{#problem}}<p class="problem" role="alert" id="sign-in-problem">{{problem}}</p>{{/problem}}
        <form method="post" action="/console/sign-in" class="stack">
          <input type="hidden" name="next" value="{{next}}">
          <label for="token">API token</label>
          <input type="password" id="token" name="token" autocomplete="off" required autofocus placeholder="vgl_…">
          <button type="submit" id="sign-in">Sign in</button>
        </form>
        <p class="muted">Use the token an admin gave you. An admin creates one with
        <code>vigil tokens create --name NAME --role analyst</code> (viewer to look, analyst to work alerts, admin to reload rules).
        The token is exchanged for a session cookie once; it is not kept in the browser.</p>
        </section>
        """

    /// An error page: what was wrong and what to do.
    static let error = """
        <section class="narrow">
        <h1 id="error-title">{{title}}</h1>
        <p class="problem" id="error-message">{{message}}</p>
        <p><a href="/console">Back to the queue</a></p>
        </section>
        """

    /// Where the case actions (assign, note, dispose) go when cases land (issue 17): the
    /// alert page includes this partial; the cases work replaces it. Shown to analysts and
    /// admins only, so a viewer never sees a button they cannot use.
    static let caseActions = """
        {{#canAct}}
        <section class="case-actions" id="case-actions" data-alert="{{alert.id}}">
        <h2>Case</h2>
        <p class="muted">Assigning, notes and dispositions arrive with the cases work; this is where their buttons go.</p>
        </section>
        {{/canAct}}
        """
}
