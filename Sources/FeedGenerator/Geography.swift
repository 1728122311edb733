/// A city where accounts live and card-present merchants trade.
struct City: Sendable {
    let name: String
    let country: String
    let latitude: Double
    let longitude: Double
}

/// A country of the synthetic world: its currency, zone and a few cities.
struct Country: Sendable {
    let code: String
    let currency: String
    /// IANA zone name written to the reference data; the generator uses `utcOffsetMinutes`
    /// (no daylight saving: an hour off half the year does not change the rhythm).
    let timezone: String
    let utcOffsetMinutes: Int
    /// Share of accounts that live here.
    let weight: Double
    /// First octet of the public-looking IPv4 addresses of residents.
    let ipOctet: Int
    let cities: [City]
}

/// The fixed geography the generator draws from.
enum Geography {
    static let countries: [Country] = [
        Country(
            code: "DE", currency: "EUR", timezone: "Europe/Berlin", utcOffsetMinutes: 60, weight: 18, ipOctet: 84,
            cities: [
                City(name: "Berlin", country: "DE", latitude: 52.52, longitude: 13.405),
                City(name: "München", country: "DE", latitude: 48.137, longitude: 11.575),
                City(name: "Köln", country: "DE", latitude: 50.937, longitude: 6.96),
            ]),
        Country(
            code: "FR", currency: "EUR", timezone: "Europe/Paris", utcOffsetMinutes: 60, weight: 12, ipOctet: 90,
            cities: [
                City(name: "Paris", country: "FR", latitude: 48.857, longitude: 2.352),
                City(name: "Lyon", country: "FR", latitude: 45.764, longitude: 4.836),
            ]),
        Country(
            code: "ES", currency: "EUR", timezone: "Europe/Madrid", utcOffsetMinutes: 60, weight: 7, ipOctet: 88,
            cities: [
                City(name: "Madrid", country: "ES", latitude: 40.417, longitude: -3.704),
                City(name: "Barcelona", country: "ES", latitude: 41.385, longitude: 2.173),
            ]),
        Country(
            code: "NL", currency: "EUR", timezone: "Europe/Amsterdam", utcOffsetMinutes: 60, weight: 5, ipOctet: 145,
            cities: [
                City(name: "Amsterdam", country: "NL", latitude: 52.368, longitude: 4.904)
            ]),
        Country(
            code: "GB", currency: "GBP", timezone: "Europe/London", utcOffsetMinutes: 0, weight: 12, ipOctet: 81,
            cities: [
                City(name: "London", country: "GB", latitude: 51.507, longitude: -0.128),
                City(name: "Manchester", country: "GB", latitude: 53.481, longitude: -2.243),
            ]),
        Country(
            code: "US", currency: "USD", timezone: "America/New_York", utcOffsetMinutes: -300, weight: 16, ipOctet: 72,
            cities: [
                City(name: "New York", country: "US", latitude: 40.713, longitude: -74.006),
                City(name: "Boston", country: "US", latitude: 42.36, longitude: -71.059),
            ]),
        Country(
            code: "CH", currency: "CHF", timezone: "Europe/Zurich", utcOffsetMinutes: 60, weight: 4, ipOctet: 178,
            cities: [
                City(name: "Zürich", country: "CH", latitude: 47.377, longitude: 8.542)
            ]),
        Country(
            code: "SE", currency: "SEK", timezone: "Europe/Stockholm", utcOffsetMinutes: 60, weight: 3, ipOctet: 83,
            cities: [
                City(name: "Stockholm", country: "SE", latitude: 59.329, longitude: 18.069)
            ]),
        Country(
            code: "PL", currency: "PLN", timezone: "Europe/Warsaw", utcOffsetMinutes: 60, weight: 5, ipOctet: 89,
            cities: [
                City(name: "Warszawa", country: "PL", latitude: 52.23, longitude: 21.012)
            ]),
        Country(
            code: "JP", currency: "JPY", timezone: "Asia/Tokyo", utcOffsetMinutes: 540, weight: 6, ipOctet: 126,
            cities: [
                City(name: "東京", country: "JP", latitude: 35.676, longitude: 139.65),
                City(name: "大阪", country: "JP", latitude: 34.694, longitude: 135.502),
            ]),
        Country(
            code: "KW", currency: "KWD", timezone: "Asia/Kuwait", utcOffsetMinutes: 180, weight: 2, ipOctet: 37,
            cities: [
                City(name: "Kuwait City", country: "KW", latitude: 29.376, longitude: 47.977)
            ]),
        Country(
            code: "BR", currency: "BRL", timezone: "America/Sao_Paulo", utcOffsetMinutes: -180, weight: 5, ipOctet: 177,
            cities: [
                City(name: "São Paulo", country: "BR", latitude: -23.55, longitude: -46.633)
            ]),
        Country(
            code: "AU", currency: "AUD", timezone: "Australia/Sydney", utcOffsetMinutes: 600, weight: 3, ipOctet: 101,
            cities: [
                City(name: "Sydney", country: "AU", latitude: -33.869, longitude: 151.209)
            ]),
        Country(
            code: "SG", currency: "SGD", timezone: "Asia/Singapore", utcOffsetMinutes: 480, weight: 2, ipOctet: 116,
            cities: [
                City(name: "Singapore", country: "SG", latitude: 1.352, longitude: 103.82)
            ]),
    ]

    /// Countries that appear only in fraud: sanctioned or high-risk jurisdictions (the
    /// FATF call-for-action list) plus two common cash-out destinations.
    static let highRiskCountries: [Country] = [
        Country(
            code: "KP", currency: "USD", timezone: "Asia/Pyongyang", utcOffsetMinutes: 540, weight: 0, ipOctet: 175,
            cities: [
                City(name: "Pyongyang", country: "KP", latitude: 39.039, longitude: 125.763)
            ]),
        Country(
            code: "IR", currency: "USD", timezone: "Asia/Tehran", utcOffsetMinutes: 210, weight: 0, ipOctet: 5,
            cities: [
                City(name: "Tehran", country: "IR", latitude: 35.689, longitude: 51.389)
            ]),
        Country(
            code: "MM", currency: "USD", timezone: "Asia/Yangon", utcOffsetMinutes: 390, weight: 0, ipOctet: 103,
            cities: [
                City(name: "Yangon", country: "MM", latitude: 16.84, longitude: 96.173)
            ]),
    ]

    /// Currencies and their value in EUR (EUR per one major unit), as decimal strings:
    /// rates are money and are never binary floats in the reference data.
    static let eurRates: [(currency: String, rate: String)] = [
        ("EUR", "1"), ("USD", "0.92"), ("GBP", "1.17"), ("CHF", "1.05"), ("SEK", "0.088"), ("PLN", "0.23"),
        ("JPY", "0.0061"), ("KWD", "3.0"), ("BRL", "0.17"), ("AUD", "0.61"), ("SGD", "0.69"),
    ]

    /// The rate as a Double for drawing amounts (never for storing them).
    static func eurRate(_ currency: String) -> Double {
        Double(eurRates.first { $0.currency == currency }?.rate ?? "1") ?? 1
    }

    /// Great-circle distance in km.
    static func distanceKM(_ a: City, _ b: City) -> Double {
        let r = 6371.0
        let rad = Double.pi / 180
        let dLat = (b.latitude - a.latitude) * rad
        let dLon = (b.longitude - a.longitude) * rad
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.latitude * rad) * cos(b.latitude * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, h.squareRoot()))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
