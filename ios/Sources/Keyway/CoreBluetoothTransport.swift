// Keyway's radio on Apple platforms: CoreBluetooth behind the core's BleTransport.
import CoreBluetooth
import Foundation

/// `BleTransport` over CoreBluetooth. Peripherals are named by their CoreBluetooth
/// identifier (a UUID string). The central manager is created with a state-restoration
/// identifier, so iOS can relaunch the app for a connection in progress (the app declares
/// the `bluetooth-central` background mode). Scans filter on the Keyway service UUID;
/// `connect` discovers the service and characteristics, subscribes to the response
/// characteristic and returns the ATT MTU (`maximumWriteValueLength` + 3). A dropped link
/// fails the waiting read with `BleError.Disconnected`; manager state and authorization
/// map to `PoweredOff` / `Unauthorized`.
public final class CoreBluetoothTransport: NSObject, BleTransport, @unchecked Sendable {
    private let queue = DispatchQueue(label: "app.keyway.ble")
    private let profile = bleProfile()
    private let serviceUuid: CBUUID
    private let requestUuid: CBUUID
    private let responseUuid: CBUUID
    private var central: CBCentralManager!
    private let states = Mailbox<CBManagerState>()
    private var advertisements = Mailbox<Advertisement>()
    // Touched only on `queue`.
    private var peripherals: [String: CBPeripheral] = [:]
    private var links: [String: Link] = [:]

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
    private final class Link: @unchecked Sendable {
        let events = Mailbox<LinkEvent>()
        let notifications = Mailbox<Data>()
        var request: CBCharacteristic?
    }

    /// `restoreIdentifier` must stay the same across launches for iOS to restore the manager.
    public init(restoreIdentifier: String = "app.keyway.central") {
        serviceUuid = CBUUID(string: profile.serviceUuid)
        requestUuid = CBUUID(string: profile.requestCharacteristicUuid)
        responseUuid = CBUUID(string: profile.responseCharacteristicUuid)
        super.init()
        var options: [String: Any] = [CBCentralManagerOptionShowPowerAlertKey: false]
        #if os(iOS)
        options[CBCentralManagerOptionRestoreIdentifierKey] = restoreIdentifier
        #endif
        central = CBCentralManager(delegate: self, queue: queue, options: options)
    }

    private func onQueue<T>(_ body: () throws -> T) rethrows -> T {
        try queue.sync(execute: body)
    }

    public func adapterState() async -> AdapterState {
        switch CBCentralManager.authorization {
        case .denied, .restricted: return .unauthorized
        default: break
        }
        var state = onQueue { central.state }
        // Right after creation the state is `.unknown` until the first delegate callback.
        if state == .unknown || state == .resetting {
            state = (try? await states.next(timeout: 2)) ?? state
        }
        switch state {
        case .poweredOn: return .poweredOn
        case .unauthorized: return .unauthorized
        case .unsupported: return .unsupported
        default: return .poweredOff
        }
    }

    /// The trait's error when the radio cannot be used now, or nil.
    private func unusable() -> BleError? {
        switch central.state {
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
            central.scanForPeripherals(withServices: [CBUUID(string: serviceUuid)], options: nil)
        }
    }

    public func nextAdvertisement(timeout: TimeInterval) async throws -> Advertisement {
        try await onQueue { advertisements }.next(timeout: timeout)
    }

    public func stopScan() async {
        onQueue {
            if central.isScanning { central.stopScan() }
            advertisements.close(with: .Other(detail: "scan stopped"))
        }
    }

    public func connect(peripheral: String, timeout: TimeInterval) async throws -> UInt16 {
        let deadline = Date().addingTimeInterval(timeout)
        let (target, link) = try onQueue { () throws -> (CBPeripheral, Link) in
            if let error = unusable() { throw error }
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
            onQueue { target.discoverServices([serviceUuid]) }
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .servicesDiscovered(let failure) = event { return .some(failure) }
                return nil
            }
            let service = try onQueue { () throws -> CBService in
                guard let service = target.services?.first(where: { $0.uuid == serviceUuid }) else {
                    throw BleError.ServiceMissing
                }
                target.discoverCharacteristics([requestUuid, responseUuid], for: service)
                return service
            }
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .characteristicsDiscovered(let failure) = event { return .some(failure) }
                return nil
            }
            try onQueue {
                let characteristics = service.characteristics ?? []
                guard let request = characteristics.first(where: { $0.uuid == requestUuid }),
                      let response = characteristics.first(where: { $0.uuid == responseUuid })
                else { throw BleError.ServiceMissing }
                link.request = request
                target.setNotifyValue(true, for: response) // writes the CCC descriptor
            }
            try await expectSuccess(link, by: deadline) { (event: LinkEvent) -> String?? in
                if case .notifying(let failure) = event { return .some(failure) }
                return nil
            }
            let longest = onQueue { target.maximumWriteValueLength(for: .withoutResponse) }
            return UInt16(clamping: min(longest + 3, 517)) // + the ATT header
        } catch {
            await disconnect(peripheral: peripheral)
            throw error
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
        onQueue {
            if let link = links.removeValue(forKey: peripheral) {
                link.notifications.close(with: .Disconnected)
                link.events.close(with: .Disconnected)
            }
            if let target = peripherals[peripheral], target.state != .disconnected {
                central.cancelPeripheralConnection(target)
            }
        }
    }
}

extension CoreBluetoothTransport: CBCentralManagerDelegate {
    public func centralManagerDidUpdateState(_ central: CBCentralManager) {
        states.offer(central.state)
        if central.state != .poweredOn {
            for link in links.values {
                link.events.close(with: .PoweredOff)
                link.notifications.close(with: .PoweredOff)
            }
            links.removeAll()
        }
    }

    public func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        // Relaunched by iOS: take back the peripherals the previous process knew.
        for peripheral in dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? [] {
            peripheral.delegate = self
            peripherals[peripheral.identifier.uuidString] = peripheral
        }
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
