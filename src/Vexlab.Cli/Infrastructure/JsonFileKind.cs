using System.Text.Json;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Which of vexlab's JSON outputs a file's first bytes are, told by its top-level keys: a result (<c>--json</c>), a
/// counterexample (<c>check --trace</c>) or a Perfetto trace (<c>run --trace</c>, <c>replay --out</c>). Every one of
/// them starts with <c>{</c>, so "starts as JSON" let <c>run --trace r.json</c> write a Chrome trace over an earlier
/// run's result, exit 0; each output now replaces only its own kind.
/// </summary>
internal enum JsonFileKind
{
    /// <summary>Not JSON (a scenario, text, a binary file).</summary>
    NotJson,

    /// <summary>JSON that none of vexlab's outputs is (a package.json, someone's data).</summary>
    Other,

    /// <summary>A command's result (<see cref="ResultDocument"/>): <c>schema_version</c> first.</summary>
    Result,

    /// <summary>A counterexample: a result's header, and <c>loop_start</c> and <c>actions</c>, which no result has.</summary>
    Counterexample,

    /// <summary>
    /// Chrome's Trace Event Format: an object with <c>traceEvents</c> (and <c>displayTimeUnit</c>,
    /// <c>otherData</c>, <c>systemTraceEvents</c>), or the format's bare array of events.
    /// </summary>
    PerfettoTrace,
}

/// <summary>Tells a <see cref="JsonFileKind"/> from a file's first bytes.</summary>
internal static class JsonFileKinds
{
    /// <summary>
    /// How much of a file is read: a counterexample's <c>loop_start</c> comes after its knobs and bounds, a few KiB in;
    /// a result's header is its first line. A longer file is judged on the keys seen by then.
    /// </summary>
    public const int HeadBytes = 1 << 20;

    private static readonly HashSet<string> s_traceKeys = new(StringComparer.Ordinal) { "traceEvents", "displayTimeUnit", "otherData", "systemTraceEvents" };

    /// <summary>The kind of the JSON text in <paramref name="head"/>, the first bytes of a file (all of it when shorter than <see cref="HeadBytes"/>).</summary>
    public static JsonFileKind Of(ReadOnlySpan<byte> head, bool whole)
    {
        var reader = new Utf8JsonReader(head, isFinalBlock: whole, state: default);
        var keys = new List<string>();
        try
        {
            if (!reader.Read())
            {
                return JsonFileKind.NotJson;
            }

            if (reader.TokenType == JsonTokenType.StartArray)
            {
                return JsonFileKind.PerfettoTrace;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return JsonFileKind.Other;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                keys.Add(reader.GetString()!);

                // TrySkip is false when the value runs past the bytes read: judge on the keys seen so far.
                if (!reader.Read() || !reader.TrySkip())
                {
                    break;
                }
            }
        }
        catch (JsonException)
        {
            // Bad JSON before any key: not JSON; after one, the keys seen so far.
            if (keys.Count == 0)
            {
                return JsonFileKind.NotJson;
            }
        }

        if (keys.Count > 0 && keys[0] == "schema_version")
        {
            return keys.Contains("loop_start") || keys.Contains("actions") ? JsonFileKind.Counterexample : JsonFileKind.Result;
        }

        return keys.Any(s_traceKeys.Contains) ? JsonFileKind.PerfettoTrace : JsonFileKind.Other;
    }

    /// <summary>The kind of the file at <paramref name="path"/>; null when it is empty or cannot be read (the write will say why).</summary>
    public static JsonFileKind? OfFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var buffer = new byte[HeadBytes];
            var n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return n == 0 ? null : Of(buffer.AsSpan(0, n), whole: n < buffer.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"a Perfetto trace": the kind in words, as a refusal names what the file holds.</summary>
    public static string Describe(JsonFileKind kind) => kind switch
    {
        JsonFileKind.Result => "an earlier result",
        JsonFileKind.Counterexample => "a counterexample",
        JsonFileKind.PerfettoTrace => "a Perfetto trace",
        JsonFileKind.Other => "JSON that is no vexlab output",
        _ => "no JSON",
    };
}
