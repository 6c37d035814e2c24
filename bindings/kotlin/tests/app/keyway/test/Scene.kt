// The scene every journey plays in: the reference backend and served reference locks,
// each in its own process; Harbour Gym with an offline back gate and a "Members" key;
// and phones running the generated Kotlin API over a Kotlin radio and secure store.
package app.keyway.test

import app.keyway.Keyway
import app.keyway.KeywayConfig
import app.keyway.core.UnlockTimeouts
import java.security.SecureRandom
import java.time.Duration
import java.util.concurrent.atomic.AtomicInteger

class Scene : AutoCloseable {
    val backend = Backend()
    val orgId: Long
    private val facility: Long
    /** The offline back gate's door id (what the lock advertises). */
    val gate: String = randomDoor()
    /** The offline pool door, on the same "Members" key. */
    val pool: String = randomDoor()
    /** A door fitted with a lock but out of everyone's keys until a test adds it. */
    val gateBackendId: Long
    /** The "Members" key opening the gate. */
    val membersKey: Long
    val locks: LockServer
    private val people = AtomicInteger()
    private val phones = mutableListOf<Phone>()

    init {
        orgId = backend.admin("POST", "v1/admin/orgs", """{"name":"Harbour Gym"}""")["id"] as Long
        val site = backend.admin("POST", "v1/admin/orgs/$orgId/sites", """{"name":"Main site"}""")
        val issuer = unb64(site["issuer_public_key"] as String)
        facility = backend.admin("POST", "v1/admin/sites/${site["id"]}/facilities", """{"name":"Harbour Gym"}""")["id"] as Long
        locks = LockServer(listOf(gate, pool), issuer)
        fun fit(name: String, door: String): Long {
            val lock = locks.lock(door)
            val id = backend.admin(
                "POST", "v1/admin/facilities/$facility/doors",
                """{"name":"$name","lock_id":"$door","lock_public_key":"${b64(lock.publicKey)}",""" +
                    """"lock_signing_public_key":"${b64(lock.signingKey)}","online":false}""",
            )["id"] as Long
            // The lock's doorcode secret goes to the backend once, as a fitter registers it.
            lock.doorcodeSecret?.let {
                backend.admin("POST", "v1/admin/doors/$id/doorcode-secret", """{"secret":"${b64(it)}"}""")
            }
            return id
        }
        gateBackendId = fit("Back gate", gate)
        val poolBackendId = fit("Pool", pool)
        membersKey = backend.admin(
            "POST", "v1/admin/facilities/$facility/keys",
            """{"name":"Members","door_ids":[$gateBackendId,$poolBackendId]}""",
        )["id"] as Long
    }

    /** A fresh email address, so no test meets another's throttling. */
    fun email(name: String): String = "$name-${people.incrementAndGet()}@example.com"

    /** Invites `email` to the Members key; returns (invitation id, person id). */
    fun invite(email: String, startsAt: Long? = null, expiresAt: Long = now() + 30 * DAY): Pair<Long, Long> {
        val start = startsAt?.toString() ?: "null"
        val sent = backend.admin(
            "POST", "v1/admin/invitations",
            """{"facility_id":$facility,"email":${quote(email)},"role":"member","access_start":$start,""" +
                """"keys":[{"key_id":$membersKey,"starts_at":$start,"expires_at":$expiresAt,"shareable":true}]}""",
        )
        return (sent["invitation_id"] as Long) to (sent["person_id"] as Long)
    }

    /** Invites `email` with no key at all (an invitation is not access); returns the person id. */
    fun inviteWithoutKeys(email: String): Long {
        val sent = backend.admin(
            "POST", "v1/admin/invitations",
            """{"facility_id":$facility,"email":${quote(email)},"role":"member","invited_by":"Maria Lopez"}""",
        )
        return sent["person_id"] as Long
    }

    /** A fresh phone number in E.164 form. */
    fun phoneNumber(): String = "+4477009%05d".format(people.incrementAndGet())

    /** Adds a person known only by `phone` (no invitation) with the Members key; returns the person id. */
    fun phoneOnlyMember(phone: String): Long {
        val person = backend.admin("POST", "v1/admin/orgs/$orgId/people", """{"phone":${quote(phone)},"role":"member"}""")
        val id = person["person_id"] as Long
        backend.admin(
            "POST", "v1/admin/people/$id/grants",
            """{"key_id":$membersKey,"expires_at":${now() + 30 * DAY},"shareable":false}""",
        )
        return id
    }

    /** Revokes every key of a person. */
    fun revokeAll(person: Long) {
        backend.admin("POST", "v1/admin/orgs/$orgId/people/$person/revoke-all")
    }

    /** Turns a person's access off (suspended, with the administrator's words) or back on. */
    fun setAccess(person: Long, enabled: Boolean, message: String? = null) {
        val words = message?.let { quote(it) } ?: "null"
        backend.admin("POST", "v1/admin/orgs/$orgId/people/$person/access", """{"enabled":$enabled,"message":$words}""")
    }

    /** The configuration every phone of the scene uses (short unlock bounds, the run's CA). */
    fun config() = KeywayConfig(
        backendUrl = backend.url,
        linkHosts = listOf(LINK_HOST),
        unlockTimeouts = UnlockTimeouts(
            scan = Duration.ofSeconds(2),
            connect = Duration.ofSeconds(3),
            handshake = Duration.ofSeconds(3),
            doorSync = Duration.ofSeconds(10),
        ),
        httpTimeout = Duration.ofSeconds(10),
        extraTrustedRoots = listOf(backend.caPem),
    )

    /** A new phone: Keyway over a Kotlin radio and a Kotlin secure store. */
    fun phone(): Phone {
        val radio = ServedRadio(locks.port)
        val store = MemorySecureStore()
        val phone = Phone(Keyway(config(), radio, store), radio, store, this)
        synchronized(phones) { phones += phone }
        return phone
    }

    /** A member invited to the "Members" key who accepted on a new phone. */
    suspend fun member(name: String): Phone {
        val email = email(name)
        invite(email)
        val phone = phone()
        phone.acceptInvitation(email)
        return phone
    }

    override fun close() {
        synchronized(phones) { phones.forEach { it.close() } }
        locks.close()
        backend.close()
    }

    companion object {
        const val DAY = 24 * 3600L
        fun now(): Long = System.currentTimeMillis() / 1000
        private fun randomDoor(): String = hex(ByteArray(8).also { SecureRandom().nextBytes(it) })
    }
}

class Phone(val keyway: Keyway, val radio: ServedRadio, val store: MemorySecureStore, private val scene: Scene) :
    AutoCloseable {
    /** Accepts the newest invitation sent to `email`, with the code from the outbox. */
    suspend fun acceptInvitation(email: String) {
        val link = keyway.parseLink(scene.backend.link(email, "invitation"))
        keyway.sendInvitationCode(link)
        keyway.acceptInvitation(link, scene.backend.code(email))
    }

    /** Signs in with a one-time code read from the outbox. */
    suspend fun signIn(address: String) {
        val flow = keyway.startSignIn(address)
        flow.verify(scene.backend.code(flow.address()))
    }

    override fun close() {
        keyway.close()
        radio.close()
    }
}
