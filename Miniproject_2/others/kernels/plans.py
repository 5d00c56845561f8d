"""Replaying a list of strided views: the per-call cost of the tap loops.

A loop over kernel taps that slices a target and a source (`out[:, rows, r, columns, s]`) issues five to
eight view operations per tap before its one arithmetic operation; at small batches those views cost
more than the arithmetic. The geometry of each view (sizes, strides, storage offset) depends only on the
layouts of the two tensors, so it is worked out once by slicing and afterwards replayed with one
`as_strided` per view.
"""


def _geometry(view) -> tuple:
    return tuple(view.shape), view.stride(), view.storage_offset()


class StridedPlans:
    """The cached view geometries of one kernel, by name and by the layouts of the two tensors."""

    def __init__(self) -> None:
        self._plans: dict = {}

    def pairs(self, name: str, target, source, build) -> list:
        """[(target view, source view)] as `build(target, source)` slices them, replayed from the plan
        cached under `name` and both tensors' geometry."""
        key = (name, _geometry(target), _geometry(source))
        plan = self._plans.get(key)
        if plan is None:
            plan = [(_geometry(t), _geometry(s)) for t, s in build(target, source)]
            self._plans[key] = plan
        return [(target.as_strided(*t), source.as_strided(*s)) for t, s in plan]
