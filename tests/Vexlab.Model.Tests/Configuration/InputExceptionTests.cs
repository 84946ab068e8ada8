using System.Text.Json;
using Vexlab.Model.Configuration;

namespace Vexlab.Model.Tests.Configuration;

/// <summary>The one-line places and messages of <see cref="InputException"/>.</summary>
public sealed class InputExceptionTests
{
    // One form for every JSON file a command reads (run and compare results, counterexamples, swarm shards):
    // the 1-based line and column where System.Text.Json stopped, and its reason without the position.
    [Theory]
    [InlineData("", "f.json:1:1: not JSON: The input does not contain any JSON tokens. Expected the input to start with a valid JSON token")]
    [InlineData("{\"a\":", "f.json:1:6: not JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed")]
    [InlineData("{\n  \"a\": 1,\n  \"b\" 2\n}", "f.json:3:7: not JSON: '2' is invalid after a property name. Expected a ':'")]
    [InlineData("{} []", "f.json:1:4: not JSON: '[' is invalid after a single JSON value. Expected end of data")]
    public void NotJson_PlacesTheFaultAndSaysWhatWasExpected(string text, string expected)
    {
        var error = Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text).Dispose());
        Assert.Equal(expected, InputException.NotJson("f.json", error).Message);
    }

    [Theory]
    [InlineData(null, 0, 0, "--seed", "must be at least 0", "--seed: must be at least 0")]
    [InlineData(null, 0, 0, "--set", "guest.vcpus: expected 1..64", "--set: guest.vcpus: expected 1..64")]
    [InlineData(null, 0, 0, "seed", "must be at least 0", "command line: seed: must be at least 0")]
    [InlineData("s.yaml", 3, 5, "host.latency", "expected a duration", "s.yaml:3:5: host.latency: expected a duration")]
    [InlineData("s.yaml", 3, 0, null, "tab", "s.yaml:3: tab")]
    [InlineData("FIRST", 0, 0, null, "missing vector", "FIRST: missing vector")]
    public void At_NamesThePlaceOnce(string? file, int line, int column, string? key, string problem, string expected)
        => Assert.Equal(expected, InputException.At(file, line, column, key, problem).Message);
}
