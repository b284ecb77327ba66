using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Options;

namespace Orleans.Membership.Api.Operations;

/// <summary>
/// Settings are checked before anything starts. A setting out of range is refused as the platform's
/// <see cref="OptionsValidationException"/>, its message naming the full key and what it may be; the process
/// then writes that one line to standard error and exits with <see cref="RefusedExitCode"/>. A service the
/// settings name that cannot be reached at start (the database) ends it with <see cref="UnavailableExitCode"/>.
/// </summary>
public static class MembershipSettings
{
    /// <summary>EX_CONFIG (sysexits.h): a supervisor tells a configuration mistake from a crash.</summary>
    public const int RefusedExitCode = 78;

    /// <summary>EX_UNAVAILABLE (sysexits.h): the settings may be right but the service is away, so a supervisor may retry.</summary>
    public const int UnavailableExitCode = 69;

    public static OptionsValidationException Refused(string problem) => new(Options.DefaultName, typeof(MembershipSettings), [problem]);

    public static UnavailableServiceException Unavailable(string problem) => new(problem);

    /// <summary>A text, or the default when unset; set to nothing (<c>--Key=</c>) it is refused rather than taken as the default.</summary>
    public static string Text(IConfiguration configuration, string key, string fallback)
    {
        var text = configuration[key];
        return text is null ? fallback : string.IsNullOrWhiteSpace(text) ? throw Refused($"{key} must not be empty") : text;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or the default when unset.</summary>
    public static int Int(IConfiguration configuration, string key, int fallback, int min, int max)
        => Read(configuration, key, fallback, min, max, NumberStyles.Integer, "a whole number");

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>, or the default when unset.</summary>
    public static double Number(IConfiguration configuration, string key, double fallback, double min, double max)
        => Read(configuration, key, fallback, min, max, NumberStyles.Float, "a number");

    private static T Read<T>(IConfiguration configuration, string key, T fallback, T min, T max, NumberStyles styles, string kind) where T : INumber<T>
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return T.TryParse(text.Trim(), styles, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Refused($"{key} must be {kind} from {min.ToString(null, CultureInfo.InvariantCulture)} to {max.ToString(null, CultureInfo.InvariantCulture)}, not '{text}'");
    }

    /// <summary>Options checked by their own rule (a <c>Problem()</c> naming the setting) when the process starts.</summary>
    public static OptionsBuilder<T> ValidateOnStart<T>(this OptionsBuilder<T> builder, Func<T, string?> problem) where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new ProblemValidation<T>(builder.Name, problem));
        return builder.ValidateOnStart();
    }

    /// <summary>
    /// Checks the options registered to be checked on start now, right after the application is built: a refusal
    /// comes before the silo or any hosted service starts, instead of as the host's start failure with its stack.
    /// </summary>
    public static WebApplication ValidateSettings(this WebApplication app)
    {
        app.Services.GetService<IStartupValidator>()?.Validate();
        return app;
    }

    /// <summary>Builds and runs the process; refused settings end it with one line per setting and <see cref="RefusedExitCode"/>.</summary>
    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        WebApplication app;
        try
        {
            app = build();
        }
        catch (Exception e) when (Problems(e) is { Count: > 0 } problems)
        {
            foreach (var problem in problems) Console.Error.WriteLine($"Refused setting: {problem}");
            return RefusedExitCode;
        }
        catch (UnavailableServiceException e)
        {
            Console.Error.WriteLine($"Unavailable: {e.Message}");
            return UnavailableExitCode;
        }
        await using (app) await app.RunAsync();
        return 0;
    }

    private static List<string>? Problems(Exception e) => e switch
    {
        OptionsValidationException refused => [.. refused.Failures],
        AggregateException all when all.InnerExceptions.All(i => i is OptionsValidationException)
            => [.. all.InnerExceptions.SelectMany(i => ((OptionsValidationException)i).Failures)],
        // A value the binder cannot convert ('x' for a number): its message names the key and the value.
        InvalidOperationException unreadable when unreadable.TargetSite?.DeclaringType == typeof(ConfigurationBinder) => [unreadable.Message],
        _ => null,
    };

    private sealed class ProblemValidation<T>(string? name, Func<T, string?> problem) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
            => name is not null && name != optionsName ? ValidateOptionsResult.Skip
                : problem(options) is { } found ? ValidateOptionsResult.Fail(found) : ValidateOptionsResult.Success;
    }
}

/// <summary>A service a setting names could not be reached at start: one line naming the setting and what failed.</summary>
public sealed class UnavailableServiceException(string problem) : Exception(problem);
