/**
 * Algebra on tensor trains without forming the full tensor (Oseledets 2011, §4). Results of add and
 * hadamard carry inflated ranks (sum / product of the operands'); call `round` afterwards.
 * Exact up to float64 rounding. Mismatched shapes → ShapeError.
 */
import { frobenius } from './dense.ts';
import { orthogonalizeRightToLeft } from './round.ts';
import { assertSameShape, type Core3, type TTTensor, ttTensor } from './ttTensor.ts';

/**
 * ⟨X, Y⟩ = Σ X[i]·Y[i] by the sweep M_0 = [[1]], M_k = Σ_{i_k} G^X_k[:,i_k,:]ᵀ · M_{k−1} · G^Y_k[:,i_k,:];
 * cost O(d n r³).
 */
export function inner(x: TTTensor, y: TTTensor): number {
  assertSameShape(x, y, 'inner');
  let m = new Float64Array([1]); // [rx_{k−1}, ry_{k−1}]
  for (let k = 0; k < x.cores.length; k++) {
    const [xl, mode, xr] = x.cores[k]!.shape;
    const [yl, , yr] = y.cores[k]!.shape;
    const gx = x.cores[k]!.data;
    const gy = y.cores[k]!.data;
    const next = new Float64Array(xr * yr);
    const tmp = new Float64Array(xl * yr);
    for (let i = 0; i < mode; i++) {
      tmp.fill(0); // M_{k−1} · G^Y[:, i, :]
      for (let a = 0; a < xl; a++) {
        for (let c = 0; c < yl; c++) {
          const mac = m[a * yl + c]!;
          if (mac === 0) continue;
          const yRow = (c * mode + i) * yr;
          for (let e = 0; e < yr; e++) tmp[a * yr + e]! += mac * gy[yRow + e]!;
        }
      }
      for (let a = 0; a < xl; a++) {
        const xRow = (a * mode + i) * xr;
        for (let b = 0; b < xr; b++) {
          const gab = gx[xRow + b]!;
          if (gab === 0) continue;
          for (let e = 0; e < yr; e++) next[b * yr + e]! += gab * tmp[a * yr + e]!;
        }
      }
    }
    m = next;
  }
  return m[0]!;
}

/** ‖X‖_F as ‖G_1‖_F after right-to-left orthogonalisation (more accurate than √⟨X,X⟩ near 0). */
export function norm(x: TTTensor): number {
  return frobenius(orthogonalizeRightToLeft(x).cores[0]!.data);
}

/** α·X: scales the first core. */
export function scale(x: TTTensor, alpha: number): TTTensor {
  const [first, ...rest] = x.cores;
  return ttTensor([{ shape: first!.shape, data: first!.data.map((v) => v * alpha) }, ...rest], 'scaled tt');
}

/**
 * X + Y with ranks r^X_k + r^Y_k: core 1 = [G^X_1 G^Y_1] (concatenated on the right rank), core d
 * stacked on the left rank, middle cores block-diagonal in (r_{k−1}, r_k).
 */
export function add(x: TTTensor, y: TTTensor): TTTensor {
  assertSameShape(x, y, 'add');
  const d = x.cores.length;
  if (d === 1) {
    const data = x.cores[0]!.data.map((v, i) => v + y.cores[0]!.data[i]!);
    return ttTensor([{ shape: x.cores[0]!.shape, data }], 'sum tt');
  }
  const cores: Core3[] = [];
  for (let k = 0; k < d; k++) {
    const [xl, mode, xr] = x.cores[k]!.shape;
    const [yl, , yr] = y.cores[k]!.shape;
    const left = k === 0 ? 1 : xl + yl;
    const right = k === d - 1 ? 1 : xr + yr;
    // Y's block sits after X's on each axis that is not a boundary.
    const yLeftOffset = k === 0 ? 0 : xl;
    const yRightOffset = k === d - 1 ? 0 : xr;
    const data = new Float64Array(left * mode * right);
    const place = (src: Float64Array, l: number, r: number, lo: number, ro: number): void => {
      for (let a = 0; a < l; a++) {
        for (let i = 0; i < mode; i++) {
          for (let b = 0; b < r; b++) data[((a + lo) * mode + i) * right + b + ro] = src[(a * mode + i) * r + b]!;
        }
      }
    };
    place(x.cores[k]!.data, xl, xr, 0, 0);
    place(y.cores[k]!.data, yl, yr, yLeftOffset, yRightOffset);
    cores.push({ shape: [left, mode, right], data });
  }
  return ttTensor(cores, 'sum tt');
}

/** Elementwise X ⊙ Y: slice-wise Kronecker products, ranks multiply. */
export function hadamard(x: TTTensor, y: TTTensor): TTTensor {
  assertSameShape(x, y, 'hadamard');
  const cores = x.cores.map((xc, k): Core3 => {
    const [xl, mode, xr] = xc.shape;
    const [yl, , yr] = y.cores[k]!.shape;
    const left = xl * yl;
    const right = xr * yr;
    const data = new Float64Array(left * mode * right);
    for (let a = 0; a < xl; a++) {
      for (let c = 0; c < yl; c++) {
        for (let i = 0; i < mode; i++) {
          for (let b = 0; b < xr; b++) {
            const xv = xc.data[(a * mode + i) * xr + b]!;
            for (let e = 0; e < yr; e++) {
              data[((a * yl + c) * mode + i) * right + b * yr + e] = xv * y.cores[k]!.data[(c * mode + i) * yr + e]!;
            }
          }
        }
      }
    }
    return { shape: [left, mode, right], data };
  });
  return ttTensor(cores, 'hadamard tt');
}
