import Hummingbird
import NIOCore

/// The console's stylesheet and script, served from the binary: no CDN, no build step,
/// no external fonts (the system's own).
enum Assets {
    /// A static asset response, cached briefly (the binary's version changes them).
    static func response(_ text: String, contentType: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let css = """
        :root { --fg:#1d2330; --muted:#5f6b7a; --line:#d9dee5; --bg:#f6f7f9; --card:#fff; --accent:#1f5fbf;
          --low:#4a7a4a; --medium:#a86b00; --high:#c4461b; --critical:#a3001b; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--fg); background:var(--bg); }
        a { color:var(--accent); }
        code, pre, kbd { font-family: ui-monospace,"DejaVu Sans Mono",monospace; font-size:12.5px; }
        header.top { display:flex; flex-wrap:wrap; align-items:center; gap:8px 24px; padding:10px 20px; background:#17202e; color:#fff; }
        header.top a { color:#fff; text-decoration:none; }
        .brand { font-weight:700; letter-spacing:.04em; }
        nav a { margin-right:16px; opacity:.8; }
        nav a[aria-current=page] { opacity:1; border-bottom:2px solid #fff; }
        .who { margin-left:auto; display:flex; align-items:center; gap:8px; }
        .role { font-size:11px; padding:1px 6px; border-radius:8px; background:#33415a; }
        main { padding:16px 20px 40px; max-width:1280px; margin:0 auto; }
        h1 { font-size:22px; margin:8px 0 12px; } h2 { font-size:15px; margin:0 0 10px; }
        .title-row { display:flex; flex-wrap:wrap; align-items:baseline; justify-content:space-between; gap:8px; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:14px 16px; margin-bottom:16px; }
        .grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(320px,1fr)); gap:16px; }
        .grid .card { margin-bottom:0; } .grid + * { margin-top:16px; }
        .narrow { max-width:460px; margin:40px auto; }
        .stack { display:flex; flex-direction:column; gap:8px; }
        input, select, button { font:inherit; padding:6px 8px; border:1px solid var(--line); border-radius:4px; background:#fff; }
        button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
        button.link { background:none; border:none; color:#fff; text-decoration:underline; padding:0; }
        form.inline { display:inline; }
        .filters { display:flex; flex-wrap:wrap; gap:12px; align-items:end; margin-bottom:12px; }
        .filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
        .table-wrap { overflow-x:auto; }
        table { width:100%; border-collapse:collapse; background:var(--card); }
        th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { font-size:12px; color:var(--muted); font-weight:600; }
        .num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
        .queue tbody tr { cursor:pointer; } .queue tbody tr:hover { background:#eef3fb; }
        .queue tr.selected { background:#dfe9f9; outline:2px solid var(--accent); outline-offset:-2px; }
        .queue tr.fresh { animation:fresh 3s ease-out; }
        @keyframes fresh { from { background:#fff4c2; } to { background:transparent; } }
        .sev { display:inline-block; font-size:11px; font-weight:700; text-transform:uppercase; padding:1px 6px; border-radius:3px; color:#fff; text-decoration:none; }
        .sev-low { background:var(--low); } .sev-medium { background:var(--medium); } .sev-high { background:var(--high); } .sev-critical { background:var(--critical); }
        .muted { color:var(--muted); } .problem { color:#8a1020; background:#fdecee; padding:8px 10px; border-radius:4px; }
        .empty { background:var(--card); border:1px dashed var(--line); padding:16px; border-radius:6px; }
        .live[data-state=on]::before { content:"● "; color:#2f9e44; } .live[data-state=off]::before { content:"○ "; }
        .pages { display:flex; gap:16px; margin:12px 0; }
        .facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; margin:0; } .facts dt { color:var(--muted); } .facts dd { margin:0; }
        .hits { list-style:none; padding:0; margin:0 0 10px; } .hit { padding:8px 0; border-bottom:1px solid var(--line); } .hit .reason { margin-top:2px; }
        .hit.mode-shadow { opacity:.75; }
        .timeline { list-style:none; margin:0; padding:0 0 0 14px; border-left:2px solid var(--line); }
        .timeline li { position:relative; padding:4px 0 4px 8px; display:flex; flex-wrap:wrap; gap:4px 12px; }
        .timeline li::before { content:""; position:absolute; left:-20px; top:10px; width:10px; height:10px; border-radius:50%; background:var(--line); }
        .timeline li.alerted::before { background:var(--high); } .timeline li.current { background:#eef3fb; }
        .diff { overflow-x:auto; background:#fbfbfc; border:1px solid var(--line); padding:8px; max-height:480px; }
        .diff .add { color:#1b6e2a; background:#e9f7ec; } .diff .del { color:#9b1c1c; background:#fcecec; } .diff .head { color:var(--muted); }
        .flash { background:#eef3fb; padding:8px; border-radius:4px; white-space:pre-wrap; }
        .legend i { display:inline-block; width:10px; height:10px; margin:0 3px 0 8px; } .l-alert { background:#c4461b; } .l-shadow { background:#8a94a6; }
        .legend .l-precision { background:#1f5fbf; height:3px; vertical-align:middle; } .l-disposed { background:#e3e8ef; border:1px solid #d9dee5; }
        .big { font-size:28px; font-weight:700; margin:0; }
        .state-ok { color:#2f9e44; } .state-failing { color:var(--high); } .state-disabled { color:var(--muted); }
        .keys { margin-top:16px; } kbd { border:1px solid var(--line); border-radius:3px; padding:0 4px; background:#fff; }
        @media (max-width: 720px) {
          main { padding:12px; } header.top { padding:8px 12px; }
          .queue th:nth-child(4), .queue td:nth-child(4), .queue th:nth-child(6), .queue td:nth-child(6) { display:none; }
          .who { margin-left:0; }
        }
        """
}
