import Access
import Cases
import Foundation
import HTTPAPI
import Hummingbird

extension Console {
    /// `POST /console/alerts/{id}/case/{action}`: assign, note, status or close the alert's
    /// case from its page, through the same ``CaseStore/apply(_:toCase:expectedRevision:by:remoteAddress:on:)``
    /// as the API (history, audit log, webhooks). The form carries the revision the page
    /// showed, so a change made on a stale page is refused, not applied over someone else's.
    /// Success goes back to the alert page (303); a refusal shows it there with its reason.
    func caseAction(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.signedIn
        guard identity.role >= .analyst else {
            throw ConsoleError(
                .forbidden, "Not allowed",
                "Working cases needs the analyst role; you are signed in as '\(identity.name)' with role \(identity.role). Nothing was changed.")
        }
        let idText = context.parameters.get("id") ?? ""
        guard let alertID = Int64(idText), alertID > 0 else {
            throw ConsoleError(.badRequest, "Bad alert id", "'\(idText)' is not an alert id.")
        }
        var request = request
        let form = try await FormFields.of(&request)
        let change: CaseChange
        switch context.parameters.get("action") ?? "" {
        case "assign": change = .assign(form.nonEmpty("assignee"))
        case "note": change = .note(form["text"] ?? "")
        case "status":
            guard let status = form.nonEmpty("status").flatMap(CaseStatus.init(rawValue:)) else {
                throw ConsoleError(.badRequest, "Bad status", "A case moves to open or in_review; close it with a disposition.")
            }
            change = .status(status)
        case "close":
            guard let disposition = form.nonEmpty("disposition").flatMap(Disposition.init(rawValue:)) else {
                throw ConsoleError(.badRequest, "Choose a disposition", "Closing a case needs fraud, legitimate or inconclusive.")
            }
            change = .close(disposition, reason: form.nonEmpty("reason"))
        default:
            throw ConsoleError(.notFound, "No such action", "Cases are assigned, noted, moved (status) or closed.")
        }
        let revision = form.nonEmpty("revision").flatMap { Int64($0) }
        do {
            try await access.withConnection { db in
                guard let caseID = try await db.query("SELECT case_id FROM alerts WHERE id = \(alertID)").first?.decodeIfPresent(0, as: Int64.self)
                else {
                    throw CaseError(.notFound, code: "not_found", message: "alert #\(alertID) has no case")
                }
                _ = try await CaseStore.apply(
                    change, toCase: caseID, expectedRevision: revision, by: identity.name, remoteAddress: context.remoteAddress, on: db)
            }
        } catch let error as CaseError {
            var page = try await alertPage(
                request, context: context, flash: "Not done: \(error.message)",
                status: HTTPResponse.Status(code: error.status))
            page.headers[.cacheControl] = "no-store"
            return page
        }
        return Response(status: .seeOther, headers: [.location: "/console/alerts/\(alertID)#case-actions", .cacheControl: "no-store"])
    }
}
