using CsCheck;

namespace Vexlab.Fuzz;

/// <summary>The generator of fuzz inputs: a target, one of its seeds, one to four mutations.</summary>
public static class Fuzzer
{
    public static Gen<FuzzCase> Cases(Harness harness)
    {
        var mutation =
            from kind in Gen.Enum<MutationKind>()
            from at in Gen.Double[0, 1]
            from span in Gen.Double[0, 1]
            from token in Gen.Int[0, 1 << 16]
            select new Mutation(kind, Math.Min(at, 0.999999), span, token);
        return
            from target in Gen.OneOf(FuzzTarget.All.ToArray())
            from seed in Gen.OneOf(harness.Seeds[target.Name])
            from mutations in mutation.Array[1, 4]
            select new FuzzCase(target, seed.Name, seed.Bytes, mutations);
    }
}
