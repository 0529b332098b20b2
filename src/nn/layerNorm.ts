/** LayerNorm module: γ ("weight", init 1) and β ("bias", init 0) over the last axis, ε from the config. */
import type { Param, ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from './functional.ts';
import type { InitStreams } from './init.ts';

export class LayerNorm {
  readonly weight: Param;
  readonly bias: Param;

  constructor(store: ParamStore, readonly name: string, dim: number, init: InitStreams, readonly eps: number) {
    this.weight = store.add(`${name}.weight`, 'norm', [dim], init.constant(1)(dim));
    this.bias = store.add(`${name}.bias`, 'norm', [dim], init.constant(0)(dim));
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.weight.tensor, this.bias.tensor, this.eps);
  }
}
