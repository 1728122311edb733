import FeedProtocol
import NIOCore

extension FeedServer {
    /// Writes each connection's replies in arrival order as they become ready: protocol v1
    /// lines, or (ISO 8583) the response to each request.
    static func writeReplies(_ replies: ReplyQueue, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, iso: ISO8583Session?) async throws {
        var ready: [FeedReply] = []
        var bytes: [UInt8] = []
        while await replies.nextReady(into: &ready) {
            bytes.removeAll(keepingCapacity: true)
            if let iso {
                for reply in ready { iso.encode(reply, into: &bytes) }
            } else {
                for reply in ready { reply.encode(into: &bytes) }
            }
            let count = ready.count
            ready.removeAll(keepingCapacity: true)
            do {
                try await outbound.write(ByteBuffer(bytes: bytes))
            } catch {
                replies.close()
                throw error
            }
            replies.written(count)
        }
        outbound.finish()
    }
}
