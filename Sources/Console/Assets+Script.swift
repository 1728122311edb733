extension Assets {
    /// Times in the analyst's zone (UTC on hover), keyboard navigation of the queue, and
    /// live rows from the alert stream. Rows are built with DOM calls and `textContent`,
    /// never from HTML strings, so nothing in an alert can become markup.
    static let script = #"""
        (function () {
          "use strict";
          function localize(el) {
            var iso = el.getAttribute("datetime");
            var d = new Date(iso);
            if (isNaN(d.getTime())) return;
            el.title = d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace("Z", " UTC");
            el.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric",
              hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
          }
          document.querySelectorAll("time[datetime]").forEach(localize);
          // The pipeline page reads the metrics again every 10 s while it is being looked at.
          if (document.body.dataset.page === "pipeline") {
            setInterval(function () { if (document.visibilityState === "visible") window.location.reload(); }, 10000);
          }

          var table = document.getElementById("queue");
          if (!table) return;
          var body = table.tBodies[0];
          var selected = -1;
          function rows() { return Array.prototype.slice.call(body.rows); }
          function select(i) {
            var all = rows();
            if (all.length === 0) return;
            i = Math.max(0, Math.min(all.length - 1, i));
            all.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
            all[i].classList.add("selected");
            all[i].setAttribute("aria-selected", "true");
            all[i].scrollIntoView({ block: "nearest" });
            selected = i;
          }
          document.addEventListener("keydown", function (e) {
            var tag = (e.target && e.target.tagName) || "";
            if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) return;
            if (e.key === "j") { select(selected + 1); e.preventDefault(); }
            else if (e.key === "k") { select(selected - 1); e.preventDefault(); }
            else if (e.key === "Enter" && selected >= 0) { var r = rows()[selected]; if (r) window.location = r.dataset.href; }
            else if (e.key === "/") { var f = document.getElementById("filter-severity"); if (f) { f.focus(); e.preventDefault(); } }
          });
          body.addEventListener("click", function (e) {
            if (e.target.closest("a")) return;
            var r = e.target.closest("tr");
            if (r && r.dataset.href) window.location = r.dataset.href;
          });

          if (table.dataset.live !== "true" || !window.EventSource) return;
          var status = document.getElementById("live-status");
          var ranks = { low: 0, medium: 1, high: 2, critical: 3 };
          function grouped(amount) {
            var parts = String(amount).split(".");
            parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
            return parts.join(".");
          }
          function cell(row, text, cls) {
            var td = row.insertCell(-1);
            if (cls) td.className = cls;
            if (text !== undefined) td.textContent = text;
            return td;
          }
          function addAlert(a) {
            if (table.dataset.severity && a.severity !== table.dataset.severity) return;
            var ruleIDs = (a.rules || []).map(function (r) { return r.rule; });
            if (table.dataset.rule && ruleIDs.indexOf(table.dataset.rule) < 0) return;
            if (body.querySelector('tr[data-id="' + Number(a.alert_id) + '"]')) return;
            var rank = ranks[a.severity] || 0;
            var before = null;
            rows().some(function (r) {
              var rr = Number(r.dataset.rank), ri = Number(r.dataset.id);
              if (rr < rank || (rr === rank && ri < a.alert_id)) { before = r; return true; }
              return false;
            });
            if (!before && table.dataset.full === "true") return;
            var row = body.insertRow(before ? before.sectionRowIndex : -1);
            row.dataset.id = String(a.alert_id);
            row.dataset.rank = String(rank);
            row.dataset.href = "/console/alerts/" + Number(a.alert_id);
            row.className = "fresh";
            var sev = document.createElement("span");
            sev.className = "sev sev-" + (ranks.hasOwnProperty(a.severity) ? a.severity : "low");
            sev.textContent = a.severity;
            cell(row).appendChild(sev);
            cell(row, String(a.total_score), "num");
            var idCell = cell(row);
            var link = document.createElement("a");
            link.href = row.dataset.href;
            link.textContent = "#" + a.alert_id;
            var tx = document.createElement("span");
            tx.className = "muted";
            tx.textContent = " " + a.transaction_id;
            idCell.appendChild(link);
            idCell.appendChild(tx);
            cell(row, a.account_id);
            cell(row, grouped(a.amount) + " " + a.currency, "num");
            cell(row, ruleIDs.join(", "));
            var time = document.createElement("time");
            time.setAttribute("datetime", a.created_at || new Date().toISOString());
            localize(time);
            cell(row).appendChild(time);
            var empty = document.getElementById("queue-empty");
            if (empty) empty.hidden = true;
            if (selected >= 0 && before && row.sectionRowIndex <= selected) selected += 1;
          }
          var source = new EventSource("/console/stream");
          source.onopen = function () { status.textContent = "Live"; status.dataset.state = "on"; };
          source.onerror = function () { status.textContent = "Live: reconnecting…"; status.dataset.state = "off"; };
          source.addEventListener("alert.created", function (e) {
            try { addAlert(JSON.parse(e.data)); } catch (err) { /* a malformed event changes nothing */ }
          });
        })();
        """#
}
