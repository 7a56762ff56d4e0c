"""Mixed precision for the Engine: one argument, ``Engine(precision=...)``.

The policy is DeepMind's `jmp` (the mixed-precision library of Haiku): parameters stay in
float32, the forward and backward passes run in the compute dtype, the loss is taken in
float32. Batch-norm statistics and other buffers keep their own dtype. float16 also needs loss
scaling, since its range (6e-8 to 65504) loses small gradients: a dynamic scale (jmp's
``DynamicLossScale``, starting at 2**15) multiplies the loss before the backward pass and
divides the gradients after it; a step whose scaled gradients overflow is skipped and the scale
halved, and after 2,000 good steps it doubles. bfloat16 has float32's range and needs none.

    "float32"   full precision (the default)
    "bfloat16"  params=float32, compute=bfloat16, output=float32
    "float16"   params=float32, compute=float16, output=float32, dynamic loss scaling
    a jmp policy string ("params=float32,compute=bfloat16,output=float32") or a jmp.Policy
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import jmp

PRESETS = {
    "float32": "params=float32,compute=float32,output=float32",
    "bfloat16": "params=float32,compute=bfloat16,output=float32",
    "float16": "params=float32,compute=float16,output=float32",
}
INITIAL_SCALE = 2.0**15


@dataclass(frozen=True)
class Precision:
    """A mixed-precision policy and whether the loss is scaled (float16 compute)."""

    policy: jmp.Policy
    loss_scaling: bool

    @classmethod
    def of(cls, spec: Any) -> Precision:
        """The precision for `spec`: a preset name, a jmp policy string, or a jmp.Policy."""
        if isinstance(spec, Precision):
            return spec
        if spec is None:
            spec = "float32"
        if isinstance(spec, str):
            text = PRESETS.get(spec, spec)
            try:
                policy = jmp.get_policy(text)
            except Exception as error:
                raise ValueError(
                    f"Engine: precision {spec!r} is neither a preset ({', '.join(PRESETS)}) nor "
                    f"a jmp policy such as 'params=float32,compute=bfloat16,output=float32' "
                    f"({error})"
                ) from None
        elif isinstance(spec, jmp.Policy):
            policy = spec
        else:
            raise TypeError(
                f"Engine: precision must be one of {', '.join(PRESETS)}, a jmp policy string or "
                f"a jmp.Policy, got {type(spec).__name__} {spec!r}"
            )
        if jnp.dtype(policy.param_dtype) == jnp.float16:
            raise ValueError(
                "Engine: parameters kept in float16 lose small updates; keep them in float32 "
                "and compute in float16 ('float16' does)"
            )
        return cls(policy, jnp.dtype(policy.compute_dtype) == jnp.float16)

    @property
    def full(self) -> bool:
        """True when nothing is cast (float32 throughout)."""
        p = self.policy
        return all(
            jnp.dtype(d) == jnp.float32 for d in (p.param_dtype, p.compute_dtype, p.output_dtype)
        )

    @property
    def key(self) -> tuple:
        """What the compiled step depends on (for the compile cache)."""
        p = self.policy
        dtypes = (p.param_dtype, p.compute_dtype, p.output_dtype)
        return (*(jnp.dtype(d).name for d in dtypes), self.loss_scaling)

    def __str__(self) -> str:
        p = self.policy
        text = f"params={jnp.dtype(p.param_dtype).name},compute={jnp.dtype(p.compute_dtype).name}"
        text += f",output={jnp.dtype(p.output_dtype).name}"
        return text + (", dynamic loss scale" if self.loss_scaling else "")

    # ---------------------------------------------------------------- inside the step

    def cast_params(self, params: Any) -> Any:
        """Parameters as the forward pass uses them (the compute dtype)."""
        return self.policy.cast_to_compute(params)

    def cast_input(self, x: Any) -> Any:
        return self.policy.cast_to_compute(x)

    def cast_output(self, out: Any) -> Any:
        return self.policy.cast_to_output(out)

    def initial_scale(self) -> dict[str, jax.Array]:
        """The dynamic loss scale's state as training starts: the scale and the count of good
        steps since it last changed (kept beside the optimizer state, and checkpointed)."""
        return {"loss_scale": jnp.float32(INITIAL_SCALE), "counter": jnp.int32(0)}

    @staticmethod
    def scaler(state: dict[str, jax.Array]) -> jmp.DynamicLossScale:
        return jmp.DynamicLossScale(state["loss_scale"], state["counter"])

    @staticmethod
    def scale_state(scaler: jmp.DynamicLossScale) -> dict[str, jax.Array]:
        return {"loss_scale": scaler.loss_scale, "counter": scaler.counter}
