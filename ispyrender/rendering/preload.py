"""What a render worker imports before its first event, for a process that forks workers
(jobs/batch/pool.py): the VTK modules the renderer uses and the renderer itself. Importing them
opens no window and starts no thread; the GL context is made by each worker."""

from __future__ import annotations

import vtkmodules.util.numpy_support
import vtkmodules.vtkCommonCore
import vtkmodules.vtkFiltersCore
import vtkmodules.vtkFiltersHybrid
import vtkmodules.vtkRenderingCore
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401

import ispyrender.rendering.meshes
import ispyrender.rendering.overlay
import ispyrender.rendering.renderer  # noqa: F401
