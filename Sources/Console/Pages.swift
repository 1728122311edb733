import HTTPAPI
import Hummingbird
import Mustache
import NIOCore

/// Renders the console's pages: a page template into the layout, as an HTML response.
enum Pages {
    /// The templates, parsed once; a template that does not parse is a bug caught by the
    /// console's tests, and answered as a plain 500 here rather than a crash.
    static let library: Result<MustacheLibrary, any Error> = Result {
        var library = MustacheLibrary()
        try library.register(Templates.layout, named: "layout")
        try library.register(Templates.signIn, named: "sign_in")
        try library.register(Templates.error, named: "error")
        try library.register(Templates.caseActions, named: "case_actions")
        try library.register(Templates.queue, named: "queue")
        try library.register(Templates.alert, named: "alert")
        try library.register(Templates.rules, named: "rules")
        try library.register(Templates.pipeline, named: "pipeline")
        return library
    }

    /// One link of the navigation.
    struct NavItem {
        let href: String
        let label: String
        let active: Bool
    }

    /// Who is signed in, for the layout.
    struct UserView {
        let name: String
        let role: String
        let csrf: String
        let nav: [NavItem]
    }

    struct LayoutView {
        let title: String
        let page: String
        let user: UserView?
        let body: String
    }

    /// The pages in the navigation, by key.
    static let navigation = [("queue", "/console", "Queue"), ("rules", "/console/rules", "Rules"), ("pipeline", "/console/pipeline", "Pipeline")]

    /// `template` rendered with `view` inside the layout, as an HTML response.
    static func page(
        _ template: String, title: String, view: Any, identity: Identity?, csrf: String?, status: HTTPResponse.Status = .ok
    ) -> Response {
        guard let html = html(template, title: title, view: view, identity: identity, csrf: csrf) else {
            return plain(.internalServerError, "the console's page '\(template)' cannot be rendered; this is a bug in vigil, please report it")
        }
        let headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            // Only this server's own script, styles and forms; never framed by another site.
            .contentSecurityPolicy:
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ]
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The page's HTML; nil when a template cannot be rendered.
    static func html(_ template: String, title: String, view: Any, identity: Identity?, csrf: String?) -> String? {
        guard case .success(let library) = library, let body = library.render(view, withTemplate: template) else { return nil }
        let user = identity.map { identity in
            UserView(
                name: identity.name, role: identity.role.rawValue, csrf: csrf ?? "",
                nav: navigation.map { NavItem(href: $0.1, label: $0.2, active: $0.0 == template) })
        }
        return library.render(LayoutView(title: title, page: template, user: user, body: body), withTemplate: "layout")
    }

    /// An error page (no navigation: the error may be that no one is signed in).
    static func error(_ error: ConsoleError) -> Response {
        page("error", title: error.title, view: ["title": error.title, "message": error.message], identity: nil, csrf: nil, status: error.status)
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
