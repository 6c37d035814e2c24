// Keyway's radio on Apple platforms: CoreBluetooth behind the core's BleTransport.
import CoreBluetooth
import Foundation
import os

/// `BleTransport` over CoreBluetooth. Peripherals are named by their CoreBluetooth
/// identifier (a UUID string). Scans filter on the Keyway service UUID; `connect` discovers
/// the service and characteristics, subscribes to the response characteristic and returns
/// the ATT MTU (`maximumWriteValueLength` + 3). A dropped link fails the waiting read with
/// `BleError.Disconnected`; manager state and authorization map to `PoweredOff` /
/// `Unauthorized`.
///
/// The central manager is created on first Bluetooth use (the first unlock asks for the
/// adapter state), so the Bluetooth permission prompt appears then, not at app launch.
///
/// State restoration is off unless the app passes a `restoreIdentifier` and declares the
/// `bluetooth-central` background mode (without it CoreBluetooth throws at launch, so the
/// identifier is then dropped and the reason logged). With it on, and Bluetooth already
/// allowed, the manager is created at once, so iOS can hand back the connections of a
/// process it ended: restored peripherals get this transport as delegate again and stay in
/// its link table, their services and characteristics are reused or rediscovered, and the
/// next `connect` to one of them reuses the link. A restored link that no unlock claims
/// within `restoredLinkGrace` is disconnected, so the lock is free for the next person.
public final class CoreBluetoothTransport: NSObject, BleTransport, @unchecked Sendable {
    /// How long a link restored by iOS is kept for an unlock to claim it.
    public static let restoredLinkGrace: TimeInterval = 15

    /// Called, on the transport's queue, each time CoreBluetooth reports a new state
    /// (Bluetooth switched on or off, the permission answered): what `adapterState()`
    /// reports may have changed. `KeywayApple.make` points it at `Keyway.platformChanged()`,
    /// so readiness subscriptions follow. Keep it quick.
    public var onPlatformChanged: (@Sendable () -> Void)? {
        get { onQueue { platformChanged } }
        set { onQueue { platformChanged = newValue } }
    }

    private let queue = DispatchQueue(label: "app.keyway.ble")
    private let log = Logger(subsystem: "app.keyway", category: "ble")
    private let profile = bleProfile()
    private let serviceUuid: CBUUID
    private let requestUuid: CBUUID
    private let responseUuid: CBUUID
    private let restoreIdentifier: String?
    private let states = Mailbox<CBManagerState>()
    // Touched only on `queue`.
    private var central: CBCentralManager?
    private var advertisements = Mailbox<Advertisement>()
    private var scanRequested = false
    private var peripherals: [String: CBPeripheral] = [:]
    private var links: [String: Link] = [:]
    private var restoredScan = false
    private var awaitingPowerOn: [CBPeripheral] = []
    private var platformChanged: (@Sendable () -> Void)?

    /// What a connection's delegate callbacks report, in order.
    private enum LinkEvent: Sendable {
        case connected
        case servicesDiscovered(String?)
        case characteristicsDiscovered(String?)
        case notifying(String?)
        case wrote(String?)
        case readyToWrite
    }

    /// One connection's queues: its events and the response characteristic's notifications.
    /// Its fields are touched only on the transport's queue.
    private final class Link: @unchecked Sendable {
        let events = Mailbox<LinkEvent>()
        let notifications = Mailbox<Data>()
        var request: CBCharacteristic?
        /// Set once the link is subscribed and ready for the handshake.
        var mtu: UInt16?
        /// A restored link being re-attached (the only reader of `events` meanwhile).
        var reattaching: Task<UInt16, Error>?
        /// Whether an unlock has taken over this link (restored links only).
        var claimed = true
    }

    /// `restoreIdentifier` turns CoreBluetooth state restoration on (iOS only; it must stay
    /// the same across launches, and the app must declare the `bluetooth-central` background
    /// mode). Nil, the default, leaves it off.
    public init(restoreIdentifier: String? = nil) {
        serviceUuid = CBUUID(string: profile.serviceUuid)
        requestUuid = CBUUID(string: profile.requestCharacteristicUuid)
        responseUuid = CBUUID(string: profile.responseCharacteristicUuid)
        #if os(iOS)
        let granted = BluetoothSetup.current.restoreIdentifier(requested: restoreIdentifier)
        self.restoreIdentifier = granted
        let dropped = restoreIdentifier != nil && granted == nil
        #else
        self.restoreIdentifier = nil
        let dropped = false
        #endif
        super.init()
        if dropped {
            log.fault("Bluetooth state restoration is off: add bluetooth-central to UIBackgroundModes in Info.plist")
        }
        // iOS restores a manager only if it is created during launch. Creating it shows the
        // permission prompt when Bluetooth is not yet allowed; then restoration has nothing to
        // restore anyway, so the manager waits for the first Bluetooth use.
        if !dropped, restoreIdentifier != nil, CBCentralManager.authorization == .allowedAlways {
            queue.async { _ = self.manager() }
        }
    }

    /// The central manager, created on first call. Call only on `queue`.
    private func manager() -> CBCentralManager {
        if let central { return central }
        var options: [String: Any] = [CBCentralManagerOptionShowPowerAlertKey: false]
        #if os(iOS)
        if let restoreIdentifier { options[CBCentralManagerOptionRestoreIdentifierKey] = restoreIdentifier }
        #endif
        let created = CBCentralManager(delegate: self, queue: queue, options: options)
        central = created
        return created
    }

    /// Whether the app may create a central manager at all (iOS kills an app that does so
    /// without a usage description). Call only on `queue`.
    private var usageDeclared: Bool {
        #if os(iOS)
        if !BluetoothSetup.current.hasUsageDescription {
            log.fault("Bluetooth is off limits: add NSBluetoothAlwaysUsageDescription to Info.plist")
            return false
        }
        #endif
        return true
    }

    private func onQueue<T>(_ body: () throws -> T) rethrows -> T {
        try queue.sync(execute: body)
    }

    public func adapterState() async -> AdapterState {
        switch CBCentralManager.authorization {
        case .denied, .restricted: return .unauthorized
        default: break
        }
        // The first call creates the manager, which asks for permission if it was never asked.
        let asking = CBCentralManager.authorization == .notDetermined
        let initial = onQueue { () -> CBManagerState? in usageDeclared ? manager().state : nil }
        guard let initial else { return .unauthorized }
        var state = initial
        // Right after creation the state is `.unknown` until the first delegate callback; while
        // the permission prompt is up, it stays so until the person answers.
        if state == .unknown || state == .resetting {
            _ = try? await states.next(timeout: asking ? 60 : 2)
            state = onQueue { manager().state }
        }
        if CBCentralManager.authorization == .denied { return .unauthorized }
        switch state {
        case .poweredOn: return .poweredOn
        case .unauthorized: return .unauthorized
        case .unsupported: return .unsupported
        default: return .poweredOff
        }
    }

    /// The trait's error when the radio cannot be used now, or nil. Call only on `queue`.
    private func unusable() -> BleError? {
        guard usageDeclared else { return .Unauthorized }
        switch manager().state {
        case .poweredOn: return nil
        case .unauthorized: return .Unauthorized
        case .unsupported: return .Other(detail: "Bluetooth LE is not supported")
        default: return .PoweredOff
        }
    }

    public func startScan(serviceUuid: String) async throws {
        let fresh = Mailbox<Advertisement>()
        try onQueue {
            if let error = unusable() { throw error }
            advertisements = fresh
            scanRequested = true
            manager().scanForPeripherals(withServices: [CBUUID(string: serviceUuid)], options: nil)
        }
    }

    public func nextAdvertisement(timeout: TimeInterval) async throws -> Advertisement {
        try await onQueue { advertisements }.next(timeout: timeout)
    }

    public func stopScan() async {
        onQueue {
            scanRequested = false
            if let central, central.isScanning { central.stopScan() }
            advertisements.close(with: .Other(detail: "scan stopped"))
        }
    }

    public func connect(peripheral: String, timeout: TimeInterval) async throws -> UInt16 {
        if let reused = try await reuseRestored(peripheral) { return reused }
        let deadline = Date().addingTimeInterval(timeout)
        let (target, link) = try onQueue { () throws -> (CBPeripheral, Link) in
            if let error = unusable() { throw error }
            let central = manager()
            guard let target = peripherals[peripheral] ?? UUID(uuidString: peripheral).flatMap({
                central.retrievePeripherals(withIdentifiers: [$0]).first
            }) else { throw BleError.ConnectFailed(detail: "unknown peripheral") }
            let link = Link()
            links[peripheral] = link
            peripherals[peripheral] = target
            target.delegate = self
            central.connect(target, options: nil)
            return (target, link)
        }
        do {
            try await expect(link, by: deadline) { (event: LinkEvent) -> Bool? in
                if case .connected = event { return true }
                return nil
            }
            return try await attach(target, link, by: deadline)
        } catch {
            await disconnect(peripheral: peripheral)
            throw error
        }
    }

    /// The MTU of a link iOS restored to `peripheral`, claimed for this unlock; nil when there
    /// is none (or its re-attachment failed), so `connect` makes a fresh connection.
    private func reuseRestored(_ peripheral: String) async throws -> UInt16? {
        let found = onQueue { () -> (mtu: UInt16?, reattaching: Task<UInt16, Error>?)? in
            guard let link = links[peripheral], !link.claimed,
                  peripherals[peripheral]?.state == .connected else { return nil }
            link.claimed = true
            return (link.mtu, link.reattaching)
        }
        guard let found else { return nil }
        if let mtu = found.mtu { return mtu }
        guard let reattaching = found.reattaching else { return nil }
        do {
            return try await reattaching.value
        } catch {
            // Already torn down by the re-attachment; start afresh.
            return nil
        }
    }

    /// Makes a connected link ready: finds the Keyway service and its two characteristics
    /// (reusing what CoreBluetooth already knows, e.g. after restoration, and discovering
    /// the rest), subscribes to responses, and returns the ATT MTU.
    private func attach(_ target: CBPeripheral, _ link: Link, by deadline: Date) async throws -> UInt16 {
        let knownService = onQueue { target.services?.first(where: { $0.uuid == serviceUuid }) }
        let service: CBService
        if let knownService {
            service = knownService
        } else {
            onQueue { target.discoverServices([serviceUuid]) }
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .servicesDiscovered(let failure) = event { return .some(failure) }
                return nil
            }
            guard let discovered = onQueue({ target.services?.first(where: { $0.uuid == serviceUuid }) }) else {
                throw BleError.ServiceMissing
            }
            service = discovered
        }
        func characteristics() -> (request: CBCharacteristic, response: CBCharacteristic)? {
            let all = service.characteristics ?? []
            guard let request = all.first(where: { $0.uuid == requestUuid }),
                  let response = all.first(where: { $0.uuid == responseUuid }) else { return nil }
            return (request, response)
        }
        var pair = onQueue { characteristics() }
        if pair == nil {
            onQueue { target.discoverCharacteristics([requestUuid, responseUuid], for: service) }
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .characteristicsDiscovered(let failure) = event { return .some(failure) }
                return nil
            }
            pair = onQueue { characteristics() }
        }
        guard let found = pair else { throw BleError.ServiceMissing }
        let subscribed = onQueue { () -> Bool in
            link.request = found.request
            if found.response.isNotifying { return true }
            target.setNotifyValue(true, for: found.response) // writes the CCC descriptor
            return false
        }
        if !subscribed {
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .notifying(let failure) = event { return .some(failure) }
                return nil
            }
        }
        return onQueue { () -> UInt16 in
            let longest = target.maximumWriteValueLength(for: .withoutResponse)
            let mtu = UInt16(clamping: min(longest + 3, 517)) // + the ATT header
            link.mtu = mtu
            return mtu
        }
    }

    /// Waits for the first event `match` accepts (skipping others) before `deadline`.
    @discardableResult
    private func expect<T>(_ link: Link, by deadline: Date, _ match: (LinkEvent) -> T?) async throws -> T {
        while true {
            let event = try await link.events.next(timeout: deadline.timeIntervalSinceNow)
            if let matched = match(event) { return matched }
        }
    }

    /// Like `expect`, for events that carry an error description (nil: success).
    private func expectSuccess(_ link: Link, by deadline: Date, _ match: (LinkEvent) -> String??) async throws {
        let failure: String? = try await expect(link, by: deadline, match)
        if let failure { throw BleError.ConnectFailed(detail: failure) }
    }

    public func write(peripheral: String, frame: Data, withResponse: Bool) async throws {
        let deadline = Date().addingTimeInterval(5) // one frame; the core bounds the exchange
        let (target, link, request) = try onQueue { () throws -> (CBPeripheral, Link, CBCharacteristic) in
            guard let target = peripherals[peripheral], let link = links[peripheral] else { throw BleError.Disconnected }
            guard let request = link.request else { throw BleError.ServiceMissing }
            return (target, link, request)
        }
        if withResponse {
            onQueue { target.writeValue(frame, for: request, type: .withResponse) }
            let failure: String? = try await expect(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .wrote(let failure) = event { return .some(failure) }
                return nil
            }
            if let failure { throw BleError.Other(detail: "write failed: \(failure)") }
        } else {
            while !onQueue({ target.canSendWriteWithoutResponse }) {
                try await expect(link, by: deadline) { (event: LinkEvent) -> Bool? in
                    if case .readyToWrite = event { return true }
                    return nil
                }
            }
            onQueue { target.writeValue(frame, for: request, type: .withoutResponse) }
        }
    }

    public func nextNotification(peripheral: String, timeout: TimeInterval) async throws -> Data {
        guard let link = onQueue({ links[peripheral] }) else { throw BleError.Disconnected }
        return try await link.notifications.next(timeout: timeout)
    }

    public func disconnect(peripheral: String) async {
        onQueue { release(peripheral) }
    }

    /// Ends `peripheral`'s link and cancels its connection. Call only on `queue`.
    private func release(_ peripheral: String) {
        if let link = links.removeValue(forKey: peripheral) {
            link.notifications.close(with: .Disconnected)
            link.events.close(with: .Disconnected)
        }
        if let central, let target = peripherals[peripheral], target.state != .disconnected {
            central.cancelPeripheralConnection(target)
        }
    }

    /// Takes back, once the radio is on, what iOS restored: connected peripherals are
    /// re-attached and kept for `restoredLinkGrace`; pending connections (their unlock died
    /// with the old process) are cancelled; a scan nobody asked for is stopped. Call only on
    /// `queue`, with the manager powered on.
    private func resumeRestored(_ central: CBCentralManager) {
        if restoredScan && !scanRequested { central.stopScan() }
        restoredScan = false
        let restored = awaitingPowerOn
        awaitingPowerOn = []
        for target in restored {
            let id = target.identifier.uuidString
            guard target.state == .connected, let link = links[id] else {
                release(id)
                continue
            }
            let deadline = Date().addingTimeInterval(Self.restoredLinkGrace)
            link.reattaching = Task { [weak self] () async throws -> UInt16 in
                guard let self else { throw BleError.Disconnected }
                do {
                    return try await self.attach(target, link, by: deadline)
                } catch {
                    self.log.info("a restored link could not be re-attached: \(String(describing: error), privacy: .public)")
                    self.queue.async { if self.links[id] === link { self.release(id) } }
                    throw error
                }
            }
            queue.asyncAfter(deadline: .now() + Self.restoredLinkGrace) { [weak self] in
                guard let self, self.links[id] === link, !link.claimed else { return }
                self.release(id)
            }
        }
    }
}

extension CoreBluetoothTransport: CBCentralManagerDelegate {
    public func centralManagerDidUpdateState(_ central: CBCentralManager) {
        states.offer(central.state)
        defer { platformChanged?() }
        switch central.state {
        case .poweredOn:
            resumeRestored(central)
        case .unknown:
            break
        default:
            // Off, resetting, unauthorized, unsupported: every connection is gone.
            for link in links.values {
                link.events.close(with: .PoweredOff)
                link.notifications.close(with: .PoweredOff)
            }
            links.removeAll()
            awaitingPowerOn.removeAll()
        }
    }

    public func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        // Relaunched by iOS: take back what the previous process had. No command may be sent
        // before the manager is powered on, so the work waits for `centralManagerDidUpdateState`.
        self.central = central
        for peripheral in dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? [] {
            let id = peripheral.identifier.uuidString
            peripheral.delegate = self
            peripherals[id] = peripheral
            let link = Link()
            link.claimed = false
            links[id] = link
            awaitingPowerOn.append(peripheral)
        }
        restoredScan = dict[CBCentralManagerRestoredStateScanServicesKey] != nil
        if central.state == .poweredOn { resumeRestored(central) }
    }

    public func centralManager(
        _ central: CBCentralManager, didDiscover peripheral: CBPeripheral,
        advertisementData: [String: Any], rssi RSSI: NSNumber
    ) {
        // Manufacturer data starts with the company id, little-endian; the core wants what follows.
        guard let data = advertisementData[CBAdvertisementDataManufacturerDataKey] as? Data, data.count >= 2 else { return }
        let company = UInt16(data[data.startIndex]) | UInt16(data[data.startIndex + 1]) << 8
        guard company == profile.companyId else { return }
        let id = peripheral.identifier.uuidString
        peripherals[id] = peripheral
        // 127 is CoreBluetooth's "unknown".
        let rssi = RSSI.intValue == 127 ? nil : Int16(clamping: RSSI.intValue)
        advertisements.offer(Advertisement(peripheral: id, manufacturerData: Data(data.dropFirst(2)), rssi: rssi))
    }

    public func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        links[peripheral.identifier.uuidString]?.events.offer(.connected)
    }

    public func centralManager(_ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?) {
        let detail = (error as NSError?).map { "\($0.domain) \($0.code)" } ?? "no reason given"
        links.removeValue(forKey: peripheral.identifier.uuidString)?.events.close(with: .ConnectFailed(detail: detail))
    }

    public func centralManager(_ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?) {
        if let link = links.removeValue(forKey: peripheral.identifier.uuidString) {
            link.events.close(with: .Disconnected)
            link.notifications.close(with: .Disconnected)
        }
    }
}

extension CoreBluetoothTransport: CBPeripheralDelegate {
    private func event(_ peripheral: CBPeripheral, _ event: LinkEvent) {
        links[peripheral.identifier.uuidString]?.events.offer(event)
    }

    public func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        event(peripheral, .servicesDiscovered(error.map { "\($0)" }))
    }

    public func peripheral(_ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?) {
        event(peripheral, .characteristicsDiscovered(error.map { "\($0)" }))
    }

    public func peripheral(
        _ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic, error: Error?
    ) {
        event(peripheral, .notifying(error.map { "\($0)" }))
    }

    public func peripheral(_ peripheral: CBPeripheral, didWriteValueFor characteristic: CBCharacteristic, error: Error?) {
        event(peripheral, .wrote(error.map { "\($0)" }))
    }

    public func peripheralIsReady(toSendWriteWithoutResponse peripheral: CBPeripheral) {
        event(peripheral, .readyToWrite)
    }

    public func peripheral(_ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?) {
        guard characteristic.uuid == responseUuid, error == nil, let value = characteristic.value else { return }
        links[peripheral.identifier.uuidString]?.notifications.offer(value)
    }
}
