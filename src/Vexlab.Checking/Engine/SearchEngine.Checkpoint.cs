using System.Globalization;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Checkpoints: everything the search has built between two blocks (table, parents, action indices, liveness
/// graph, counters, the rest of the current level and the next level so far). State ids follow the frontier
/// order alone, so a search continued from any checkpoint ends exactly as the uninterrupted one.
/// </summary>
internal sealed partial class SearchEngine<TKey, TScheme>
{
    /// <summary>The checkpoint's file inside its folder.</summary>
    public const string CheckpointFile = "checkpoint.vxck";

    private const int CheckpointMagic = 0x4B435856; // "VXCK"
    // 2: incremental fingerprints; frontier records carry their state's fingerprint. 5: the frontier's records are
    // written encoded (FrontierCodec), not whole. 6: a word's fingerprint term is one finalizer of the word and its
    // position's key (WordMix.Term), so a table written before holds other fingerprints for the same states. 7: the
    // file ends with an XXH3 digest of the rest (FileDigest).
    private const int CheckpointVersion = 7;

    private void CheckpointIfDue()
    {
        if (_options.CheckpointDirectory is not { } folder)
        {
            return;
        }

        long now = _options.TimeProvider.GetTimestamp();
        if (_options.TimeProvider.GetElapsedTime(_lastCheckpointTimestamp, now) < _options.CheckpointInterval)
        {
            return;
        }

        WriteCheckpoint(folder);
        _lastCheckpointTimestamp = _options.TimeProvider.GetTimestamp();
    }

    /// <summary>Writes a temporary file beside the checkpoint, flushes it to disk and renames it over the old one.</summary>
    private void WriteCheckpoint(string folder)
    {
        Directory.CreateDirectory(folder);
        RemoveUnfinishedWrites(folder);
        string path = Path.Combine(folder, CheckpointFile);
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                using (var output = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    WriteHeader(output);
                    WriteBody(output);
                }

                // Read back from the page cache: the frontier's writer seeks back to put its length, so the digest
                // cannot be taken as the bytes go out.
                FileDigest.Append(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (Scenarios.Files.OutputFile.IsWriteFailure(e))
        {
            // A full disk: say which output failed (EX_IOERR); the previous checkpoint, if any, is still whole.
            File.Delete(temp);
            throw new Scenarios.Files.OutputFailedException($"{Scenarios.ErrorText.Path(path)}: cannot write the checkpoint: {Scenarios.Files.OutputFile.WriteFailure(e)}", e);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>A checkpoint write cut short (the process killed before its rename) leaves a temporary file: drop it.</summary>
    private static void RemoveUnfinishedWrites(string folder)
    {
        string own = ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            foreach (string file in Directory.GetFiles(folder, CheckpointFile + ".tmp-*"))
            {
                if (!file.EndsWith(own, StringComparison.Ordinal))
                {
                    File.Delete(file);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable folder: reading the checkpoint reports it.
        }
    }

    private void WriteHeader(BinaryWriter output)
    {
        output.Write(CheckpointMagic);
        output.Write(CheckpointVersion);
        output.Write(_options.CheckpointIdentity);
        output.Write(_stateSize);

        // The bits a key keeps: 64 or 128 for the wide table, 60 for the compact one, whose slots are another format.
        output.Write(_table.KeyBits);
        output.Write(_maxActions);
        output.Write(_safetyCount);
        output.Write(_livenessCount);
        output.Write(_kindTransitions.Length);
        output.Write(_options.CheckDeadlock);
    }

    private void WriteBody(BinaryWriter output)
    {
        output.Write(_stateCount);
        output.Write(_transitions);
        output.Write(_depth);
        output.Write(_deadlockState);
        output.Write(_decidedSafety);
        output.Write(_frontierPeak);

        // The current level's states already expanded are not written; the peak still counts their encoded bytes.
        output.Write(_currentDroppedBytes + _current.MemoryBytesBefore(_position));
        WriteLongs(output, _kindTransitions);
        WriteLongs(output, _kindNew);
        for (int p = 0; p < _safetyCount; p++)
        {
            output.Write(_violationSource[p]);
            output.Write(_violationAction[p]);
        }

        output.Write(_notes.Count);
        foreach (string note in _notes)
        {
            output.Write(note);
        }

        _table.WriteTo(output);
        _parents.WriteTo(output);
        if (_actions8 is not null)
        {
            _actions8.WriteTo(output);
        }
        else
        {
            _actions16!.WriteTo(output);
        }

        output.Write(_graph is not null);
        if (_graph is not null)
        {
            _graph.EdgeStart.WriteTo(output);
            _graph.Edges.WriteTo(output);
            _graph.Enabled.WriteTo(output);
            _graph.Obligations.WriteTo(output);
            _graph.Flags.WriteTo(output);
        }

        output.Write(checked(_current.FirstId + (int)_position));
        output.Write(_current.Count - _position);
        output.Flush();
        _current.WriteTo(output.BaseStream, _position);
        output.Write(_next.FirstId);
        output.Write(_next.Count);
        output.Flush();
        _next.WriteTo(output.BaseStream, 0);
    }

    private void ReadCheckpoint(string folder)
    {
        string path = Path.Combine(folder, CheckpointFile);
        RemoveUnfinishedWrites(folder);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var input = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            CheckHeader(input, folder);

            // The header names the format, so a checkpoint of another version is told as such; then the digest
            // covers the body, whose table, parent links and graph are taken as they are.
            if (!FileDigest.Verify(stream))
            {
                throw new InvalidDataException("its checksum does not match its contents");
            }

            ReadBody(input);
            if (stream.Position != stream.Length - FileDigest.TrailerBytes)
            {
                throw new InvalidDataException("trailing bytes");
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or OverflowException or ArgumentException)
        {
            // .NET's own text for a file that ends early ("Unable to read beyond the end of the stream") says nothing of
            // the file; its length does.
            string why = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no checkpoint there",
                EndOfStreamException => string.Create(CultureInfo.InvariantCulture, $"damaged (cut short: {CheckpointFile} ends after {LengthOf(path)} bytes)"),
                _ => "damaged (" + e.Message + ")",
            };
            throw new CheckpointException($"checkpoint {folder}: {why}", e);
        }
    }

    private static long LengthOf(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private void CheckHeader(BinaryReader input, string folder)
    {
        if (input.ReadInt32() != CheckpointMagic)
        {
            throw new InvalidDataException("not a checkpoint file");
        }

        int version = input.ReadInt32();
        if (version != CheckpointVersion)
        {
            throw new CheckpointException($"checkpoint {folder}: written by another version of the checker (format {version}, this one reads {CheckpointVersion})");
        }

        string identity = input.ReadString();
        int stateSize = input.ReadInt32();
        int keyBits = input.ReadInt32();
        bool sameShape = stateSize == _stateSize
            & input.ReadInt32() == _maxActions
            & input.ReadInt32() == _safetyCount
            & input.ReadInt32() == _livenessCount
            & input.ReadInt32() == _kindTransitions.Length
            & input.ReadBoolean() == _options.CheckDeadlock;
        var differences = IdentityDifferences(identity, _options.CheckpointIdentity);
        if (keyBits != _table.KeyBits)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"{keyBits}-bit fingerprints (this check: {_table.KeyBits}-bit)"));
        }

        if (differences.Count == 0 && !sameShape)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"another state layout or property set ({stateSize}-byte states, this check's {_stateSize})"));
        }

        if (differences.Count > 0)
        {
            throw new CheckpointException($"checkpoint {folder}: written for a different check: {string.Join("; ", differences)}; resume with the same model, protocol, settings, properties, fingerprint width and compression");
        }
    }

    /// <summary>
    /// The parts (lines) of a checkpoint's identity that differ from this check's, each as the checkpoint has it and as
    /// this check has it, so that a refusal says what differs instead of printing the whole identity.
    /// </summary>
    private static List<string> IdentityDifferences(string theirs, string ours)
    {
        var differences = new List<string>();
        if (theirs == ours)
        {
            return differences;
        }

        string[] a = theirs.Split('\n');
        string[] b = ours.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string? its = i < a.Length ? a[i] : null;
            string? mine = i < b.Length ? b[i] : null;
            if (its != mine)
            {
                differences.Add($"{its ?? "nothing"} (this check: {mine ?? "nothing"})");
            }
        }

        return differences;
    }

    private void ReadBody(BinaryReader input)
    {
        _stateCount = input.ReadInt32();
        _transitions = input.ReadInt64();
        _depth = input.ReadInt32();
        _deadlockState = input.ReadInt32();
        _decidedSafety = input.ReadInt32();
        _frontierPeak = input.ReadInt64();
        _currentDroppedBytes = input.ReadInt64();
        ReadLongs(input, _kindTransitions);
        ReadLongs(input, _kindNew);
        for (int p = 0; p < _safetyCount; p++)
        {
            _violationSource[p] = input.ReadInt32();
            _violationAction[p] = input.ReadInt32();
        }

        int notes = input.ReadInt32();
        for (int i = 0; i < notes; i++)
        {
            _notes.Add(input.ReadString());
        }

        _table.ReadFrom(input);
        _parents.ReadFrom(input);
        if (_actions8 is not null)
        {
            _actions8.ReadFrom(input);
        }
        else
        {
            _actions16!.ReadFrom(input);
        }

        if (input.ReadBoolean())
        {
            _graph ??= new StateGraph(_livenessCount);
            _graph.EdgeStart.ReadFrom(input);
            _graph.Edges.ReadFrom(input);
            _graph.Enabled.ReadFrom(input);
            _graph.Obligations.ReadFrom(input);
            _graph.Flags.ReadFrom(input);
        }
        else
        {
            _graph = null;
        }

        _current.FirstId = input.ReadInt32();
        _current.ReadFrom(input.BaseStream, input.ReadInt64());
        _next.FirstId = input.ReadInt32();
        _next.ReadFrom(input.BaseStream, input.ReadInt64());
        _position = 0;
        if (_parents.Count != _stateCount || _table.Count != _stateCount || _stateCount < 1)
        {
            throw new InvalidDataException("counts disagree");
        }
    }

    /// <summary>
    /// Refuses a state or depth bound the checkpoint has already gone past. The resumed search would stop at once and
    /// report the checkpoint's states and depth under a bound that, run from the initial state, stops earlier: the
    /// result would contradict its own replay line (docs/checking.md: a resumed check ends as an uninterrupted one).
    /// </summary>
    private void RefuseBoundsPassed(string folder)
    {
        // The bound is checked before each state is expanded, so a check run from the start under it ends below
        // MaxStates plus one state's successors; a checkpoint written under the same bound holds no more.
        if (_stateCount >= _options.MaxStates + Math.Max(1, _maxActions))
        {
            throw new CheckerLimitException(string.Create(CultureInfo.InvariantCulture,
                $"MaxStates {_options.MaxStates:N0} is below the {_stateCount:N0} states checkpoint {folder} already holds; resume with a larger limit"));
        }

        // States of the current level were expanded when some were dropped from it or the next level has any; the
        // depth bound stops before a level is expanded, so it must lie past the deepest expanded one.
        int expanded = _currentDroppedBytes > 0 || _next.Count > 0 ? _depth : _depth - 1;
        if (_options.MaxDepth <= expanded)
        {
            throw new CheckerLimitException(string.Create(CultureInfo.InvariantCulture,
                $"MaxDepth {_options.MaxDepth} is below {expanded + 1}: checkpoint {folder} has already expanded states at depth {expanded}; resume with at least {expanded + 1}"));
        }
    }

    private static void WriteLongs(BinaryWriter output, long[] values)
    {
        foreach (long value in values)
        {
            output.Write(value);
        }
    }

    private static void ReadLongs(BinaryReader input, long[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = input.ReadInt64();
        }
    }
}
