using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keyward.Common.Auth;

public static class AuthenticationDefaults
{
    public const string AuditorPolicy = "auditor";
    public const string AdminPolicy = "admin";

    /// <summary>
    /// Tenant-aware bearer authentication; every endpoint requires an authenticated caller unless it says
    /// otherwise (health endpoints do), and handlers get the caller as a scoped <see cref="TenantContext"/>.
    /// </summary>
    public static WebApplicationBuilder AddKeywardAuthentication(this WebApplicationBuilder builder)
    {
        var options = new TenantRegistryOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(builder.Configuration.GetSection(TenantRegistryOptions.Section), options.Tenants);
        var registry = TenantRegistry.FromOptions(options);

        var serviceIdentity = new ServiceIdentityOptions();
        builder.Configuration.GetSection(ServiceIdentityOptions.Section).Bind(serviceIdentity);
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(serviceIdentity);
        builder.Services.AddSingleton(new TenantTokenValidator(registry, serviceIdentity));
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped(sp => TenantContext.FromPrincipal(sp.GetRequiredService<IHttpContextAccessor>().HttpContext?.User));

        builder.Services.AddAuthentication(TenantBearerHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TenantBearerHandler>(TenantBearerHandler.SchemeName, _ => { });
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AuditorPolicy, p => p.RequireRole(KeywardRoles.Auditor, KeywardRoles.Admin))
            .AddPolicy(AdminPolicy, p => p.RequireRole(KeywardRoles.Admin));
        return builder;
    }
}
