using Keyward.CertificateAuthority.Adapters.Pkcs11;
using Net.Pkcs11Interop.Common;

namespace Keyward.UnitTests.CertificateAuthority;

/// <summary>Which PKCS#11 answers make the CA drop its HSM connection and every handle found under it.</summary>
public sealed class HsmErrorTests
{
    [Theory]
    [InlineData(CKR.CKR_OBJECT_HANDLE_INVALID)] // an unplugged or restored token: sessions answer, handles do not
    [InlineData(CKR.CKR_KEY_HANDLE_INVALID)]
    [InlineData(CKR.CKR_TOKEN_NOT_PRESENT)]
    [InlineData(CKR.CKR_TOKEN_NOT_RECOGNIZED)]
    [InlineData(CKR.CKR_SLOT_ID_INVALID)]
    [InlineData(CKR.CKR_SESSION_HANDLE_INVALID)]
    [InlineData(CKR.CKR_USER_NOT_LOGGED_IN)]
    [InlineData(CKR.CKR_DEVICE_REMOVED)]
    public void Errors_that_mean_the_token_or_its_objects_are_gone_drop_the_connection(CKR rv) =>
        Assert.True(Pkcs11Token.IsConnectionLost(rv));

    [Theory]
    [InlineData(CKR.CKR_MECHANISM_INVALID)]
    [InlineData(CKR.CKR_DATA_LEN_RANGE)]
    [InlineData(CKR.CKR_ATTRIBUTE_SENSITIVE)]
    public void A_refused_operation_keeps_the_connection(CKR rv) =>
        Assert.False(Pkcs11Token.IsConnectionLost(rv));
}
