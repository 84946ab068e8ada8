using System.Globalization;
using System.Reflection;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Checking.Reduction;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking;

/// <summary>What to check: a built-in model (or a model file) under a protocol, knob overrides and the properties (empty: all).</summary>
public sealed record CheckRequest(
    string Model,
    string Protocol,
    IReadOnlyList<KeyValuePair<string, string>> Overrides,
    IReadOnlyList<string> Properties)
{
    /// <summary>The model file to check instead of the built-in <see cref="Model"/>; null for a built-in.</summary>
    public ModelFile? File { get; init; }

    /// <summary>Store one state per orbit of interchangeable vCPUs (see <see cref="Reduction.VcpuSymmetry"/>; liveness: <see cref="Reduction.SymmetricLiveness"/>).</summary>
    public bool Symmetry { get; init; }

    /// <summary>A request for a model file; <see cref="Model"/> is the file's model name.</summary>
    public static CheckRequest ForFile(ModelFile file, string protocol, IReadOnlyList<KeyValuePair<string, string>> overrides, IReadOnlyList<string> properties)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new CheckRequest(file.Model.Name, protocol, overrides, properties) { File = file };
    }

    /// <summary>The model the request names.</summary>
    public BuiltinModel ResolveModel() => File?.Model ?? BuiltinModels.Get(Model);

    public static CheckRequest Of(string model, string protocol, params string[] settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var overrides = new List<KeyValuePair<string, string>>();
        var properties = new List<string>();
        foreach (var s in settings)
        {
            var eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                properties.Add(s);
            }
            else
            {
                overrides.Add(new(s[..eq], s[(eq + 1)..]));
            }
        }

        return new CheckRequest(model, protocol, overrides, properties);
    }
}

/// <summary>A violation with its steps described and a command that reproduces it.</summary>
public sealed record DescribedViolation(Violation Violation, IReadOnlyList<TraceStep> Steps, string Replay);

/// <summary>
/// How a check with symmetry went: the classes of interchangeable vCPUs and the group's order (the most
/// states one stored state stands for), or why there was no symmetry; the liveness properties left out.
/// </summary>
public sealed record SymmetryReport(IReadOnlyList<IReadOnlyList<int>> Classes, int Order, string? Unavailable, IReadOnlyList<string> LivenessNotChecked)
{
    /// <summary>The classes of interchangeable tasks (names of tasks pinned to one vCPU with the same program and mode).</summary>
    public IReadOnlyList<IReadOnlyList<string>> TaskClasses { get; init; } = [];
}

/// <summary>The outcome of one check of a built-in model.</summary>
public sealed record ModelCheckResult(
    CheckRequest Request,
    BuiltinModel Model,
    MachineConfig Config,
    CheckResult Result,
    IReadOnlyList<DescribedViolation> Violations)
{
    /// <summary>The symmetry used when the request asked for it; null otherwise.</summary>
    public SymmetryReport? Symmetry { get; init; }

    /// <summary>Knob values the check ran with that differ from the protocol's defaults, plus those the model sets.</summary>
    public IReadOnlyDictionary<string, string> Knobs => Config.Protocol.Knobs.Overrides;
}

/// <summary>Checks built-in models: builds the machine, runs the engine, describes the counterexamples.</summary>
public static class ModelCheck
{
    public static MachineSystem BuildSystem(CheckRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.ResolveModel();
        // A check's knobs beyond the model's are its --set values (a matrix entry's were checked where it was parsed).
        var config = model.Build(request.Protocol, request.Overrides, Scenarios.Documents.Overrides.SetOption);
        var system = new MachineSystem(config, request.Properties, request.File?.Invariants);
        RefuseInvariantFalseInitially(system, request.File?.Invariants ?? []);
        return system;
    }

    /// <summary>
    /// Refuses an invariant the initial state already breaks: the checker judges invariants on the states
    /// transitions reach, so such a check blamed its first step (any step) for a state it did not make, and with
    /// <c>--max-depth 0</c> reported nothing.
    /// </summary>
    private static void RefuseInvariantFalseInitially(MachineSystem system, IReadOnlyList<UserInvariant> invariants)
    {
        if (invariants.Count == 0)
        {
            return;
        }

        var initial = system.CreateMachine();
        foreach (var invariant in invariants)
        {
            if (system.SafetyProperties.Contains(invariant.Name) && !invariant.Holds(initial))
            {
                var problem = $"invariant {invariant.Name} ('{invariant.Expression}') is false in the initial state, before any step; an invariant must hold there";
                throw invariant.Source?.Error(problem) ?? new InputException(problem);
            }
        }
    }

    public static ModelCheckResult Run(CheckRequest request, CheckerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.ResolveModel();
        using var system = BuildSystem(request);
        options ??= new CheckerOptions();
        options.CheckDeadlock = system.CheckDeadlock;
        options.CheckLiveness = system.LivenessProperties.Count > 0;
        options.CheckpointIdentity = CheckpointIdentity(request, system);
        SymmetryReport? report = null;
        CheckResult result;
        if (request.Symmetry)
        {
            var symmetry = VcpuSymmetry.Of(system.Config, system.CreateMachine().Layout, request.File?.Invariants ?? [], out var reason);
            report = new SymmetryReport(symmetry?.Classes ?? [], symmetry?.Order ?? 1, symmetry is null ? reason : null, [])
            {
                TaskClasses = symmetry?.TaskClasses ?? [],
            };
            if (symmetry is not null)
            {
                using var quotient = new SymmetricSystem(system, symmetry);
                options.CheckpointIdentity += "\nvCPU symmetry";
                result = Checker.Run(quotient, options);
                result = result with { Violations = [.. result.Violations.Select(v => TraceLifting.Lift(quotient, v))] };
            }
            else
            {
                result = Checker.Run(system, options);
            }
        }
        else
        {
            result = Checker.Run(system, options);
        }

        foreach (var v in result.Violations)
        {
            CounterexampleCheck.Require(system, v);
        }

        var machine = system.CreateMachine();
        var violations = result.Violations
            .Select(v => new DescribedViolation(
                v,
                TraceDescriber.Describe(machine, v.Actions, v.Kind == ViolationKind.Lasso ? v.LoopStart : -1),
                ReplayCommand(request, v.Property)))
            .ToList();
        return new ModelCheckResult(request, model, system.Config, result, violations) { Symmetry = report };
    }

    /// <summary>
    /// What a checkpoint of this check is of, a part a line: the model, protocol, settings and properties, a hash of the
    /// initial state, a model file's text, and the version of vexlab, whose code is a built-in model's definition and
    /// the rules every model runs under.
    /// </summary>
    /// <remarks>
    /// The properties in ordinal order: the system numbers the selected ones in its own order whatever order they were
    /// named in, so the checkpoint of <c>--property a --property b</c> is that of <c>--property b --property a</c>.
    /// A file's text, not only its initial state: a program or an invariant edited between the stop and the resume
    /// leaves the initial state as it was, and the resumed check went on with the table of the old model (a pass where
    /// a fresh check of the edited file found a violation).
    /// </remarks>
    public static string CheckpointIdentity(CheckRequest request, ITransitionSystem system)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(system);
        var initial = new byte[system.StateSize];
        system.WriteInitialState(initial);
        var hash = System.IO.Hashing.XxHash64.HashToUInt64(initial);
        var parts = new List<string>
        {
            "model " + request.Model,
            "protocol " + request.Protocol,
            $"set [{string.Join(", ", request.Overrides.Select(kv => kv.Key + "=" + kv.Value))}]",
            $"properties [{string.Join(", ", request.Properties.Order(StringComparer.Ordinal))}]",
            string.Create(CultureInfo.InvariantCulture, $"initial state {hash:x16}"),
        };
        if (request.File is { } file)
        {
            parts.Add("model file text " + file.TextHash);
        }

        parts.Add("vexlab " + Version);
        return string.Join('\n', parts);
    }

    /// <summary>This build's version (with its commit, as <c>vexlab --version</c> prints it).</summary>
    private static string Version =>
        typeof(ModelCheck).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>A one-line command that reproduces a violation of <paramref name="property"/>.</summary>
    public static string ReplayCommand(CheckRequest request, string property, IEnumerable<string>? flags = null) =>
        CommandLine(request, [.. flags ?? [], "--property", Scenarios.ShellWord.Of(property)]);

    /// <summary>
    /// A one-line command that reproduces the whole check: the request's properties (none named: all) after
    /// <paramref name="flags"/>, the options that change the result (such as --max-states).
    /// </summary>
    public static string ReplayCheck(CheckRequest request, IEnumerable<string> flags)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parts = new List<string>(flags);
        foreach (var property in request.Properties)
        {
            // An invariant's name may hold what bash reads as syntax ("i;rm$HOME" ran rm$HOME when pasted).
            parts.Add("--property");
            parts.Add(Scenarios.ShellWord.Of(property));
        }

        return CommandLine(request, parts);
    }

    private static string CommandLine(CheckRequest request, IEnumerable<string> tail)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parts = request.File is { } file
            ? new List<string> { "vexlab check", Scenarios.ShellWord.Of(file.Path), "--protocol", request.Protocol }
            : new List<string> { "vexlab check --builtin", request.Model, "--protocol", request.Protocol };
        foreach (var (key, value) in request.Overrides)
        {
            parts.Add("--set");
            parts.Add(Scenarios.ShellWord.Of(string.Create(CultureInfo.InvariantCulture, $"{key}={value}")));
        }

        if (request.Symmetry)
        {
            parts.Add("--symmetry");
        }

        parts.AddRange(tail);
        return string.Join(' ', parts);
    }

    /// <summary>The protocols, in catalogue order.</summary>
    public static IReadOnlyList<string> Protocols => ProtocolCatalog.Names;
}
