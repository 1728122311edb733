/// A merchant category with how people spend in it.
struct MerchantCategory: Sendable {
    let mcc: String
    let label: String
    /// Typical spend relative to the account's everyday median.
    let amountFactor: Double
    /// Relative number of merchants (and so of transactions) in this category.
    let weight: Double
    /// Sold online (card not present) rather than over a counter.
    let online: Bool

    static let all: [MerchantCategory] = [
        .init(mcc: "5411", label: "Markt", amountFactor: 1.2, weight: 30, online: false),
        .init(mcc: "5812", label: "Restaurant", amountFactor: 1.0, weight: 16, online: false),
        .init(mcc: "5814", label: "Snack", amountFactor: 0.3, weight: 12, online: false),
        .init(mcc: "5541", label: "Fuel", amountFactor: 1.6, weight: 8, online: false),
        .init(mcc: "5912", label: "Pharmacy", amountFactor: 0.6, weight: 6, online: false),
        .init(mcc: "4121", label: "Taxi", amountFactor: 0.7, weight: 5, online: false),
        .init(mcc: "5691", label: "Fashion", amountFactor: 2.5, weight: 6, online: false),
        .init(mcc: "5311", label: "Department Store", amountFactor: 2.0, weight: 4, online: false),
        .init(mcc: "5732", label: "Electronics", amountFactor: 4.0, weight: 2, online: false),
        .init(mcc: "5944", label: "Jewelry", amountFactor: 5.0, weight: 0.6, online: false),
        .init(mcc: "7011", label: "Hotel", amountFactor: 4.0, weight: 1.5, online: false),
        .init(mcc: "5942", label: "Books", amountFactor: 0.8, weight: 2, online: true),
        .init(mcc: "5818", label: "Digital Goods", amountFactor: 0.4, weight: 8, online: true),
        .init(mcc: "5999", label: "Online Shop", amountFactor: 1.5, weight: 10, online: true),
        .init(mcc: "4511", label: "Airline", amountFactor: 6.0, weight: 1, online: true),
        .init(mcc: "4899", label: "Streaming", amountFactor: 0.4, weight: 4, online: true),
        .init(mcc: "5967", label: "Direct Marketing", amountFactor: 0.8, weight: 1, online: true),
    ]

    /// ATM withdrawals and quasi-cash: used by dedicated merchant kinds.
    static let atm = MerchantCategory(mcc: "6011", label: "ATM", amountFactor: 3, weight: 0, online: false)
    /// Categories that card fraud cashes out through; merchants in them are high risk.
    static let risky: [MerchantCategory] = [
        .init(mcc: "7995", label: "Casino", amountFactor: 5, weight: 0, online: true),
        .init(mcc: "6051", label: "Crypto Exchange", amountFactor: 8, weight: 0, online: true),
        .init(mcc: "4829", label: "Money Transfer", amountFactor: 6, weight: 0, online: true),
    ]
}
