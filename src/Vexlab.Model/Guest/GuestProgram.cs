namespace Vexlab.Model.Guest;

/// <summary>A named guest program: a task's loop or a kernel handler.</summary>
public sealed class GuestProgram
{
    public GuestProgram(string name, Instr[] code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (code.Length == 0 || code.Length > 250)
        {
            throw new ArgumentException($"program {name} must have 1..250 instructions", nameof(code));
        }

        Name = name;
        Code = code;
    }

    public string Name { get; }

    public Instr[] Code { get; }
}

/// <summary>Builds a program with forward labels, so handler programs read like the kernel code they model.</summary>
public sealed class ProgramBuilder
{
    private readonly List<Instr> _code = [];
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly List<(int At, string Label)> _fixups = [];
    private readonly string _name;

    public ProgramBuilder(string name) => _name = name;

    public int Here => _code.Count;

    public ProgramBuilder Op(MicroOp op, byte a = 0, ushort b = 0)
    {
        _code.Add(new Instr(op, a, b));
        return this;
    }

    public ProgramBuilder Label(string label)
    {
        _labels.Add(label, _code.Count);
        return this;
    }

    public ProgramBuilder Jump(string label)
    {
        _fixups.Add((_code.Count, label));
        _code.Add(new Instr(MicroOp.Jump));
        return this;
    }

    public ProgramBuilder JumpIf(Condition condition, string label)
    {
        _fixups.Add((_code.Count, label));
        _code.Add(new Instr(MicroOp.JumpIf, (byte)condition));
        return this;
    }

    public GuestProgram Build()
    {
        var code = _code.ToArray();
        foreach (var (at, label) in _fixups)
        {
            if (!_labels.TryGetValue(label, out var target))
            {
                throw new InvalidOperationException($"program {_name}: unknown label {label}");
            }

            code[at] = code[at] with { B = (ushort)target };
        }

        return new GuestProgram(_name, code);
    }
}
