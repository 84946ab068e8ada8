using ScottPlot;
using SkiaSharp;

namespace Vexlab.Results.Tests;

/// <summary>A rendered plot's pixels, for assertions on regions (never on frozen pixel values).</summary>
public sealed class PlotImage : IDisposable
{
    private readonly SKBitmap _bitmap;

    private PlotImage(SKBitmap bitmap, PixelRect dataRect)
    {
        _bitmap = bitmap;
        DataRect = dataRect;
    }

    public int Width => _bitmap.Width;

    public int Height => _bitmap.Height;

    /// <summary>Where the data was drawn (axes excluded).</summary>
    public PixelRect DataRect { get; }

    public static PlotImage Render(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        return new PlotImage(SKBitmap.Decode(bytes), plot.LastRender.DataRect);
    }

    public static PlotImage Decode(string pngPath) => new(SKBitmap.Decode(pngPath), default);

    /// <summary>True where a pixel is not the white figure background.</summary>
    public bool Inked(int x, int y)
    {
        var c = _bitmap.GetPixel(x, y);
        return c.Red < 235 || c.Green < 235 || c.Blue < 235;
    }

    /// <summary>Share of inked pixels in a rectangle (clipped to the image).</summary>
    public double InkedShare(int left, int top, int right, int bottom)
    {
        left = Math.Max(0, left);
        top = Math.Max(0, top);
        right = Math.Min(Width, right);
        bottom = Math.Min(Height, bottom);
        long inked = 0;
        long all = 0;
        for (var y = top; y < bottom; y++)
        {
            for (var x = left; x < right; x++)
            {
                all++;
                inked += Inked(x, y) ? 1 : 0;
            }
        }

        return all == 0 ? 0 : (double)inked / all;
    }

    /// <summary>Inked pixels in the outermost <paramref name="band"/> pixels: text cut by the image's edge shows here.</summary>
    public int InkOnBorder(int band = 2)
    {
        var count = 0;
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                if ((x < band || y < band || x >= Width - band || y >= Height - band) && Inked(x, y))
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Pixels inside <paramref name="rect"/> that differ from <paramref name="other"/>'s.</summary>
    public int DifferingPixels(PlotImage other, PixelRect rect)
    {
        ArgumentNullException.ThrowIfNull(other);
        var count = 0;
        for (var y = (int)rect.Top; y < (int)rect.Bottom; y++)
        {
            for (var x = (int)rect.Left; x < (int)rect.Right; x++)
            {
                count += _bitmap.GetPixel(x, y) != other._bitmap.GetPixel(x, y) ? 1 : 0;
            }
        }

        return count;
    }

    public void Dispose() => _bitmap.Dispose();
}
