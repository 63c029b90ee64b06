using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Kernels.Ilgpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// The device kernels' float → F16/BF16 rounding (ILGPU KV stores) against the host conversions the
/// CPU engine and the weights use: every half's neighbourhood, the ties between halves, and random bits.
/// </summary>
public sealed class DeviceNarrowingTests
{
    [Fact]
    public void Device_f16_rounding_equals_the_host_s_for_every_half_its_ties_and_its_neighbours()
    {
        for (int bits = 0; bits < 0x10000; bits++)
        {
            float value = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            if (float.IsNaN(value))
            {
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(DeviceMath.SingleToHalf(value))));
                continue;
            }

            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(bits + 1));
            float tie = (value / 2) + (next / 2);
            foreach (float probe in (float[])[value, BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) + 1), tie, BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(tie) - 1), BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(tie) + 1)])
            {
                if (!float.IsNaN(probe))
                {
                    Assert.Equal(HalfWidening.NarrowToF16(probe), DeviceMath.SingleToHalf(probe));
                }
            }
        }
    }

    [Fact]
    public void Device_rounding_equals_the_host_s_for_random_float_bits()
    {
        var random = new Random(11);
        for (int i = 0; i < 1_000_000; i++)
        {
            float value = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32));
            Assert.Equal(BFloat16Bits.FromSingle(value), DeviceMath.SingleToBFloat16(value));
            if (!float.IsNaN(value))
            {
                Assert.Equal(HalfWidening.NarrowToF16(value), DeviceMath.SingleToHalf(value));
            }
        }
    }
}
