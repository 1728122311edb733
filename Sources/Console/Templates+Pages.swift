extension Templates {
    /// The queue: newest and most severe alerts first, filters, live rows, keyset pages.
    static let queue = """
        <div class="title-row">
        <h1>Alert queue</h1>
        <p class="live" id="live-status" aria-live="polite" data-state="off">{{#live}}Live: connecting…{{/live}}{{^live}}Older page: not live{{/live}}</p>
        </div>
        <form class="filters" method="get" action="/console" id="filters">
          <label>Severity
            <select name="severity" id="filter-severity">
              <option value="">any</option>
              {{#severities}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/severities}}
            </select>
          </label>
          <label>Rule
            <select name="rule" id="filter-rule">
              <option value="">any</option>
              {{#rules}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/rules}}
            </select>
          </label>
          <label>Case
            <select name="status" id="filter-status">
              <option value="">any</option>
              {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statuses}}
            </select>
          </label>
          <label>Assignee <input name="assignee" id="filter-assignee" value="{{assignee}}" size="10"></label>
          <button type="submit">Filter</button>
          {{#filtered}}<a href="/console">Clear filters</a>{{/filtered}}
        </form>
        <div class="table-wrap">
        <table id="queue" class="queue" data-live="{{liveAttr}}" data-severity="{{severity}}" data-rule="{{rule}}" data-full="{{fullAttr}}">
          <thead><tr><th>Severity</th><th class="num">Score</th><th>Alert</th><th>Account</th><th class="num">Amount</th><th>Rules</th><th>Raised</th></tr></thead>
          <tbody>
          {{#alerts}}
          <tr data-id="{{id}}" data-rank="{{rank}}" data-href="/console/alerts/{{id}}">
            <td><span class="sev sev-{{severity}}">{{severity}}</span></td>
            <td class="num">{{score}}</td>
            <td><a href="/console/alerts/{{id}}">#{{id}}</a> <span class="muted">{{transactionID}}</span></td>
            <td>{{accountID}}</td>
            <td class="num">{{amount}}</td>
            <td>{{rules}}</td>
            <td><time datetime="{{raised}}">{{raised}}</time></td>
          </tr>
          {{/alerts}}
          </tbody>
        </table>
        </div>
        <div class="empty" id="queue-empty"{{#hasAlerts}} hidden{{/hasAlerts}}>
          {{#filtered}}<p><strong>No alerts match these filters.</strong> <a href="/console">Clear the filters</a> to see every alert, or wait: matching alerts appear here as they are raised.</p>{{/filtered}}
          {{^filtered}}<p><strong>No alerts yet.</strong> An alert appears here, without a reload, as soon as an alert-mode rule hits a transaction on the feed.
          If none come, check on <a href="/console/pipeline">Pipeline</a> that transactions arrive, and on <a href="/console/rules">Rules</a> that rules in alert mode are hitting.</p>{{/filtered}}
        </div>
        <nav class="pages">
          {{#newest}}<a href="{{newest}}">← Newest</a>{{/newest}}
          {{#next}}<a href="{{next}}" id="older">Older alerts →</a>{{/next}}
        </nav>
        <p class="keys muted">Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>/</kbd> filters.</p>
        """

    /// One alert: the transaction, the account's recent activity, each hit and its reason.
    static let alert = """
        <p class="crumbs"><a href="/console">Queue</a> › Alert #{{alert.id}}</p>
        <div class="title-row">
        <h1>Alert #{{alert.id}} <span class="sev sev-{{alert.severity}}">{{alert.severity}}</span></h1>
        <p class="score">score <strong>{{alert.score}}</strong>{{#alert.decision}} · decision <strong>{{alert.decision}}</strong>{{/alert.decision}}</p>
        </div>
        <div class="grid">
        <section class="card">
          <h2>Transaction</h2>
          <dl class="facts" id="transaction">
            {{#facts}}<dt>{{label}}</dt><dd>{{#time}}<time datetime="{{value}}">{{value}}</time>{{/time}}{{^time}}{{value}}{{/time}}</dd>{{/facts}}
          </dl>
        </section>
        <section class="card">
          <h2>Rule hits</h2>
          <ul class="hits" id="hits">
          {{#hits}}
            <li class="hit mode-{{mode}}"><div><strong>{{rule}}</strong> <span class="sev sev-{{severity}}">{{severity}}</span> <span class="muted">{{mode}} · score {{score}}{{#onError}} · hit because evaluation failed (fail-closed){{/onError}}</span></div>
            <div class="reason">{{reason}}</div></li>
          {{/hits}}
          </ul>
          {{^hits}}<p class="muted">No rule hits are stored for this transaction.</p>{{/hits}}
          <p class="muted">Raised by ruleset <code>{{alert.ruleset}}</code> at <time datetime="{{alert.raised}}">{{alert.raised}}</time>.</p>
        </section>
        </div>
        {{> case_actions}}
        <section class="card">
          <h2>Account {{alert.accountID}}: recent activity</h2>
          <ol class="timeline" id="timeline">
          {{#timeline}}
            <li class="{{#current}}current{{/current}}{{#alerted}} alerted{{/alerted}}">
              <time datetime="{{at}}">{{at}}</time>
              <span class="amount">{{amount}}</span>
              <span>{{channel}}{{#merchant}} · {{merchant}}{{/merchant}}{{#country}} · {{country}}{{/country}}</span>
              <span class="muted">{{id}}</span>
              {{#alertID}}<a href="/console/alerts/{{alertID}}" class="sev sev-{{alertSeverity}}">alert #{{alertID}}</a>{{/alertID}}
              {{#current}}<strong>this transaction</strong>{{/current}}
            </li>
          {{/timeline}}
          </ol>
          <p class="muted">The account's transactions from 7 days before to 1 day after this one, newest first (at most 25).</p>
        </section>
        <section class="card" id="explain">
          <h2>Explain</h2>
          {{#casePanel}}
          {{#traces}}
          <h3>{{rule}}</h3>
          <pre class="trace">{{#lines}}{{indent}}{{expr}}  = {{value}}
        {{/lines}}</pre>
          {{/traces}}
          {{^traces}}<p class="muted">No trace is stored for this alert (raised before evidence was kept).</p>{{/traces}}
          <details><summary>Values the rules saw</summary><pre class="values">{{#values}}{{.}}
        {{/values}}</pre></details>
          {{/casePanel}}
          <p class="muted">The value of every sub-expression of each rule that hit, as it was when the rule decided
          (<code>vigil rules explain</code> computes the same for any transaction).</p>
        </section>
        """

    /// The rules: hits over the last 24 hours per rule, shadow versus live, the version and its diff.
    static let rules = """
        <div class="title-row">
        <h1>Rules</h1>
        {{#canReload}}
        <form method="post" action="/console/rules/reload" class="inline" id="reload-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <button type="submit" id="reload-rules">Reload rules</button>
        </form>
        {{/canReload}}
        </div>
        {{#flash}}<pre class="flash" id="flash">{{flash}}</pre>{{/flash}}
        <section class="card">
          <h2>Version</h2>
          {{#version}}
          <p>Live: <code id="live-version">{{name}}</code> since <time datetime="{{liveAt}}">{{liveAt}}</time> ({{how}} by {{author}}){{#message}}: “{{message}}”{{/message}}</p>
          {{/version}}
          {{^version}}<p class="muted">No ruleset has been recorded as live yet: vigil serve records one when it starts.</p>{{/version}}
        </section>
        {{#hasProposals}}
        <section class="card" id="proposals">
          <h2>Proposed rulesets (four-eyes)</h2>
          {{#proposals}}
          <div class="proposal" data-proposal="{{id}}">
            <p><strong>#{{id}}</strong> <code>{{version}}</code> on <code>{{base}}</code>: “{{message}}” — by {{proposedBy}}{{^verified}} (unverified){{/verified}}, <time datetime="{{proposedAt}}">{{proposedAt}}</time></p>
            <p class="backtest">Backtest against the live run: {{backtest}}</p>
            {{#canDecide}}
            <form method="post" action="/console/rules/proposals/{{id}}/approve" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="approve-{{id}}">Approve</button>
            </form>
            <form method="post" action="/console/rules/proposals/{{id}}/reject" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}"><input name="note" placeholder="why (for the author)" aria-label="Why">
              <button type="submit" id="reject-{{id}}">Reject</button>
            </form>
            {{/canDecide}}
            {{#own}}<p class="muted">Your own proposal: another admin decides it.</p>{{/own}}
          </div>
          {{/proposals}}
        </section>
        {{/hasProposals}}
        <section class="card">
          <h2>Hits and precision</h2>
          <p class="muted">Hits over the last 24 hours. Precision is the share of a rule's alerts that investigators closed as fraud, of those closed as fraud or legitimate (inconclusive ones are left out), by the UTC day the alert was raised: recent days fill in as cases are closed; a day with nothing disposed is a gap, not 0%.</p>
          <div class="table-wrap">
          <table class="rules" id="rules">
            <thead><tr><th>Rule</th><th class="num">Live (alert)</th><th class="num">Shadow</th><th class="num">7 days</th><th class="num" title="fraud ÷ (fraud + legitimate) of the alerts raised in the last 7 UTC days and disposed so far; inconclusive ones are left out">Precision, 7 days</th><th>Hits per hour <span class="legend"><i class="l-alert"></i>alert <i class="l-shadow"></i>shadow</span></th><th title="by the UTC day the alert was raised; hover a day for its counts">Precision per day, {{days}} days <span class="legend"><i class="l-precision"></i>precision <i class="l-disposed"></i>disposed</span></th></tr></thead>
            <tbody>
            {{#rules}}
            <tr><td><code>{{id}}</code></td><td class="num">{{alert}}</td><td class="num">{{shadow}}</td><td class="num">{{week}}</td><td class="num precision">{{precision}}</td><td>{{{chart}}}</td><td class="precision-day">{{#precisionChart}}{{{precisionChart}}}{{/precisionChart}}{{^precisionChart}}<span class="muted">none disposed in {{days}} days</span>{{/precisionChart}}</td></tr>
            {{/rules}}
            </tbody>
          </table>
          </div>
          {{^rules}}<p class="empty">No rule has hit in the last 7 days. Rules that hit show here with their counts; send transactions on the feed, or check the rules with <code>vigil rules test</code>.</p>{{/rules}}
        </section>
        <section class="card">
          <h2>Change from the previous version</h2>
          {{#diff}}<p class="muted">{{from}} → {{to}}</p><pre class="diff" id="diff">{{#lines}}<span class="{{kind}}">{{text}}</span>
        {{/lines}}</pre>{{/diff}}
          {{^diff}}<p class="muted">{{diffNote}}</p>{{/diff}}
        </section>
        """

    /// The pipeline: throughput, latency, mailboxes, restarts, webhook endpoints.
    static let pipeline = """
        <div class="title-row"><h1>Pipeline</h1><p class="muted">From the metrics <code>/metrics</code> serves, read <time datetime="{{readAt}}">{{readAt}}</time>, again every 10 s. <a href="/console/pipeline">Refresh now</a></p></div>
        {{^available}}<p class="empty">Metrics are not collected by this server, so there is nothing to show; vigil serve collects them by default.</p>{{/available}}
        {{#available}}
        <div class="grid">
        <section class="card" id="throughput"><h2>Throughput</h2>
          <p class="big">{{rate}}</p><p class="muted">{{rateNote}}</p>
          <dl class="facts">{{#totals}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/totals}}</dl>
        </section>
        <section class="card" id="latency"><h2>Decision latency</h2>
          {{#latency}}<dl class="facts">{{#percentiles}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/percentiles}}</dl><p class="muted">From arrival to decision, over {{count}} transactions since start.</p>{{/latency}}
          {{^latency}}<p class="muted">No transaction has been decided yet.</p>{{/latency}}
        </section>
        <section class="card" id="mailboxes"><h2>Mailbox depths</h2>
          <table><tbody>{{#mailboxes}}<tr><td>{{label}}</td><td class="num">{{value}}</td></tr>{{/mailboxes}}</tbody></table>
          {{^mailboxes}}<p class="muted">No stage has reported its mailbox yet.</p>{{/mailboxes}}
        </section>
        <section class="card" id="restarts"><h2>Supervisor restarts</h2>
          <table><tbody>{{#restarts}}<tr><td>{{label}}</td><td class="num">{{value}}</td></tr>{{/restarts}}</tbody></table>
          {{^restarts}}<p class="muted">No restarts since start.</p>{{/restarts}}
        </section>
        </div>
        <section class="card" id="webhooks"><h2>Webhook endpoints</h2>
          <div class="table-wrap"><table><thead><tr><th>Endpoint</th><th>State</th><th class="num">Delivered</th><th class="num">Retried</th><th class="num">Dead</th></tr></thead><tbody>
          {{#endpoints}}<tr><td>#{{id}} {{url}}</td><td><span class="state state-{{stateClass}}">{{state}}</span></td><td class="num">{{delivered}}</td><td class="num">{{retried}}</td><td class="num">{{dead}}</td></tr>{{/endpoints}}
          </tbody></table></div>
          {{^endpoints}}<p class="muted">No webhook endpoints. Add one with <code>vigil webhooks add</code>.</p>{{/endpoints}}
        </section>
        {{/available}}
        """
}
