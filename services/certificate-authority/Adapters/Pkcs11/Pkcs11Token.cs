using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Keyward.CertificateAuthority.Adapters.Pkcs11;

/// <summary>
/// The one connection of this process to the HSM token. PKCS#11 sessions are not thread-safe, so work
/// borrows a session from a pool for its duration. Any failure that means the token, a session or an object is
/// gone drops the connection (and with its generation every object handle found under it); the next call
/// connects again, so the service recovers by itself when the HSM is back.
/// </summary>
public sealed class Pkcs11Token : IDisposable
{
    private readonly HsmOptions _options;
    private readonly ILogger<Pkcs11Token> _logger;
    private readonly Lock _connectLock = new();
    private Connection? _connection;

    static Pkcs11Token()
    {
        // Pkcs11Interop 5.3 asks for "libdl", which Debian 12 ships only as libdl.so.2.
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
            name == "libdl" ? NativeLibrary.Load("libdl.so.2") : IntPtr.Zero);
    }

    public Pkcs11Token(IOptions<HsmOptions> options, ILogger<Pkcs11Token> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Runs <paramref name="work"/> on a logged-in session of the configured token.</summary>
    /// <exception cref="HsmUnavailableException">The module, the token or the login is not available.</exception>
    public T Run<T>(Func<ISession, T> work) => Run((session, _) => work(session));

    /// <summary>
    /// As <see cref="Run{T}(Func{ISession, T})"/>, also passing the connection's generation: object handles
    /// found under one generation are invalid under the next (the library was initialised again).
    /// </summary>
    public T Run<T>(Func<ISession, long, T> work)
    {
        var connection = Enter();
        try
        {
            return Run(connection, work);
        }
        finally
        {
            connection.Exit();
        }
    }

    /// <summary>A connection this call holds until <see cref="Connection.Exit"/>: a dropped one is finalised only after its last call left it.</summary>
    private Connection Enter()
    {
        while (true)
        {
            var connection = Connect();
            if (connection.TryEnter())
            {
                return connection;
            }
        }
    }

    private T Run<T>(Connection connection, Func<ISession, long, T> work)
    {
        var session = connection.Rent();
        try
        {
            var result = work(session, connection.Generation);
            connection.Return(session);
            return result;
        }
        catch (Pkcs11Exception e) when (IsConnectionLost(e.RV))
        {
            session.Dispose();
            Disconnect(connection, e);
            throw new HsmUnavailableException($"the HSM connection was lost ({e.RV})", e);
        }
        catch (HsmUnavailableException e)
        {
            // The work found the token without what it needs (a key gone from a token that was unplugged): what
            // this connection sees of the token is stale, so the next call looks again on a new one.
            session.Dispose();
            Disconnect(connection, e);
            throw;
        }
        catch (Pkcs11Exception e)
        {
            // The session may be mid-operation: never hand it out again.
            session.Dispose();
            throw new HsmUnavailableException($"the HSM refused the operation ({e.RV})", e);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private Connection Connect()
    {
        var current = Volatile.Read(ref _connection);
        if (current is not null)
        {
            return current;
        }

        lock (_connectLock)
        {
            if (_connection is not null)
            {
                return _connection;
            }

            try
            {
                _connection = Connection.Open(_options);
                _logger.LogInformation("Connected to HSM token {TokenLabel}", _options.TokenLabel);
                return _connection;
            }
            catch (Exception e) when (e is Pkcs11Exception or UnmanagedException or DllNotFoundException or InvalidOperationException or IOException)
            {
                _logger.LogWarning("HSM token {TokenLabel} is not available: {Reason}", _options.TokenLabel, e.Message);
                throw new HsmUnavailableException($"HSM token '{_options.TokenLabel}' is not available: {e.Message}", e);
            }
        }
    }

    private void Disconnect(Connection connection, Exception reason)
    {
        lock (_connectLock)
        {
            if (ReferenceEquals(_connection, connection))
            {
                _logger.LogWarning("Dropping the HSM connection: {Reason}", reason.Message);
                _connection = null;
                // Other calls may still be inside the library on their own sessions: finalising it under them would
                // crash the process (seen in the HSM drill). It goes when the last of them leaves.
                connection.Retire();
            }
        }
    }

    /// <summary>
    /// Errors after which nothing this connection holds can be trusted: the device, token or slot is gone, a session
    /// or the login is lost, or an object handle no longer names an object (an unplugged or restored token: SoftHSM
    /// answers CKR_OBJECT_HANDLE_INVALID while its sessions still answer, so keeping the connection would fail forever).
    /// </summary>
    public static bool IsConnectionLost(CKR rv) => rv is CKR.CKR_DEVICE_ERROR or CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT
        or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_SLOT_ID_INVALID
        or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED or CKR.CKR_CRYPTOKI_NOT_INITIALIZED or CKR.CKR_USER_NOT_LOGGED_IN
        or CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID
        or CKR.CKR_GENERAL_ERROR or CKR.CKR_DEVICE_MEMORY;

    public void Dispose()
    {
        lock (_connectLock)
        {
            _connection?.Retire();
            _connection = null;
        }
    }

    /// <summary>
    /// One loaded, initialised module with its logged-in token. Calls enter and exit it; once retired it takes no new
    /// call and is finalised when the last one has left, never while a thread is inside the library.
    /// </summary>
    private sealed class Connection
    {
        private readonly Lock _gate = new();
        private int _calls;
        private bool _retired;
        private bool _closed;

        private static long _generations;
        private readonly IPkcs11Library _library;
        private readonly ISlot _slot;
        // Keeps the token logged in: PKCS#11 login state lasts while at least one session is open.
        private readonly ISession _loginSession;
        private readonly ConcurrentBag<ISession> _idle = [];

        private Connection(IPkcs11Library library, ISlot slot, ISession loginSession)
        {
            _library = library;
            _slot = slot;
            _loginSession = loginSession;
            Generation = Interlocked.Increment(ref _generations);
        }

        public long Generation { get; }

        public static Connection Open(HsmOptions options)
        {
            var factories = new Pkcs11InteropFactories();
            var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, options.ModulePath, AppType.MultiThreaded);
            try
            {
                var slot = library.GetSlotList(SlotsType.WithTokenPresent)
                    .FirstOrDefault(s => s.GetTokenInfo().Label.Trim() == options.TokenLabel)
                    ?? throw new InvalidOperationException($"no token labelled '{options.TokenLabel}'");
                var session = slot.OpenSession(SessionType.ReadWrite);
                try
                {
                    session.Login(CKU.CKU_USER, options.ReadPin());
                }
                catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
                {
                    // Another session of this process logged in first; login state is per token.
                }
                catch
                {
                    session.Dispose();
                    throw;
                }

                return new Connection(library, slot, session);
            }
            catch
            {
                library.Dispose();
                throw;
            }
        }

        public ISession Rent() => _idle.TryTake(out var session) ? session : _slot.OpenSession(SessionType.ReadWrite);

        public void Return(ISession session) => _idle.Add(session);

        public bool TryEnter()
        {
            lock (_gate)
            {
                if (_retired)
                {
                    return false;
                }

                _calls++;
                return true;
            }
        }

        public void Exit()
        {
            lock (_gate)
            {
                _calls--;
                if (!_retired || _calls > 0 || _closed)
                {
                    return;
                }

                _closed = true;
            }

            Close();
        }

        public void Retire()
        {
            lock (_gate)
            {
                _retired = true;
                if (_calls > 0 || _closed)
                {
                    return;
                }

                _closed = true;
            }

            Close();
        }

        private void Close()
        {
            while (_idle.TryTake(out var session))
            {
                session.Dispose();
            }

            _loginSession.Dispose();
            _library.Dispose();
        }
    }
}

/// <summary>The HSM cannot be reached now, or refused to work: callers are answered UNAVAILABLE and try again later.</summary>
public sealed class HsmUnavailableException(string message, Exception? inner = null)
    : Keyward.Common.Errors.DependencyUnavailableException(Keyward.Common.V1.RefusalReason.HsmUnavailable, message, inner);
