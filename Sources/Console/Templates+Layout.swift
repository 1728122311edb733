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

    /// The alert's case: its state and history for everyone, and for analysts and admins
    /// one form per action (each with the CSRF token and the revision the page showed).
    static let caseActions = """
        {{#casePanel}}
        <section class="card case-actions" id="case-actions" data-case="{{caseID}}">
        <h2>Case #{{caseID}} <span class="status status-{{status}}" id="case-status">{{status}}</span></h2>
        <p>{{alertCount}} alert(s) · assignee <strong id="case-assignee">{{#assignee}}{{assignee}}{{/assignee}}{{^assignee}}nobody{{/assignee}}</strong>
        {{#disposition}} · disposition <strong id="case-disposition">{{disposition}}</strong>{{#reason}}: {{reason}}{{/reason}}{{/disposition}}</p>
        {{/casePanel}}
        {{#flash}}<p class="problem" id="case-flash">{{flash}}</p>{{/flash}}
        {{#canAct}}{{#casePanel}}
        <div class="case-forms">
        {{#caseOpen}}
        <form method="post" action="/console/alerts/{{alert.id}}/case/assign" class="inline">
          <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
          <input name="assignee" id="assignee-input" placeholder="assignee" aria-label="Assignee">
          <button type="submit" id="assign">Assign</button>
        </form>
        <form method="post" action="/console/alerts/{{alert.id}}/case/status" class="inline">
          <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
          <select name="status" aria-label="Status"><option value="in_review">in review</option><option value="open">open</option></select>
          <button type="submit" id="move">Move</button>
        </form>
        <form method="post" action="/console/alerts/{{alert.id}}/case/close" id="close-form">
          <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
          <select name="disposition" id="disposition" aria-label="Disposition">
            <option value="fraud">fraud (confirmed)</option><option value="legitimate">legitimate (false positive)</option>
            <option value="inconclusive">inconclusive</option>
          </select>
          <input name="reason" id="reason" placeholder="reason (required unless fraud)" aria-label="Reason">
          <button type="submit" id="dispose">Close case</button>
        </form>
        {{/caseOpen}}
        <form method="post" action="/console/alerts/{{alert.id}}/case/note">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <textarea name="text" id="note-text" rows="2" aria-label="Note" placeholder="add a note (kept in the history)"></textarea>
          <button type="submit" id="add-note">Add note</button>
        </form>
        </div>
        {{/casePanel}}{{/canAct}}
        {{#casePanel}}
        <details open><summary>History</summary>
        <ol class="history" id="case-history">
        {{#history}}<li><time datetime="{{at}}">{{at}}</time> <strong>{{actor}}</strong> {{kind}} {{change}}{{#note}} — {{note}}{{/note}}</li>{{/history}}
        </ol></details>
        </section>
        {{/casePanel}}
        """
}
