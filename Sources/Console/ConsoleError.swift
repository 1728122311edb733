import Hummingbird

/// An error the console answers with an HTML page: what was wrong and what to do.
public struct ConsoleError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A short title (`Not signed in`, `Forbidden`).
    public var title: String
    /// What was wrong, where, and what to do.
    public var message: String

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ title: String, _ message: String) {
        self.status = status
        self.title = title
        self.message = message
    }

    public var description: String { "\(status.code) \(title): \(message)" }
}

/// Answers the console's errors as HTML pages (the API's JSON errors suit programs, not
/// people), and anything unexpected as a 500 page that says where to look.
struct ConsoleErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConsoleError {
            return Pages.error(error)
        } catch let error as HTTPError where error.status == .notFound {
            return Pages.error(
                ConsoleError(.notFound, "Not found", "There is no console page at \(request.uri.path). Go back to the queue at /console."))
        } catch let error as HTTPError {
            return Pages.error(ConsoleError(error.status, error.status.reasonPhrase, error.body ?? "The request was refused."))
        } catch {
            context.logger.error("console request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Pages.error(
                ConsoleError(
                    .internalServerError, "Something failed",
                    "The page could not be made (\(request.uri.path)); the server log of vigil serve has the cause. Reload to try again."))
        }
    }
}
