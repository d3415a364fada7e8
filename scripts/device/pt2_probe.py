"""Would a `pt2` parity plugin load a packaged resnet18 and match? (issue 13, step 3)

PyTorch is moving from TorchScript to torch.export; the next bundlegate plugin would load an
AOTInductor package (.pt2) with torch::inductor::AOTIModelPackageLoader. On this machine's
PyTorch this exports resnet18 (eval, random weights, batch 2), packages it with
torch._inductor.aoti_compile_and_package for each device, loads it back in Python
(torch._inductor.aoti_load_package) and, when the C++ probe was built (pt2_probe/), in C++,
and compares each with the eager model's output.

    pt2_probe.py --out DIR [--probe BIN]      writes DIR/pt2.json, prints it
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--probe")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"torch": torch.__version__}
    inductor = getattr(torch, "_inductor", None)
    if not hasattr(torch, "export") or not hasattr(inductor, "aoti_compile_and_package"):
        report["available"] = False
        report["why"] = "this torch has no torch.export / torch._inductor.aoti_compile_and_package"
    else:
        report["available"] = True
        import torchvision
        torch.manual_seed(0)
        model = torchvision.models.resnet18(weights=None).eval()
        x = torch.randn(2, 3, 224, 224)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        report["devices"] = {}
        for device in devices:
            r = report["devices"][device] = {}
            try:
                m, xi = model.to(device), x.to(device)
                with torch.no_grad():
                    expected = m(xi).float().cpu()
                start = time.monotonic()
                ep = torch.export.export(m, (xi,))
                package = inductor.aoti_compile_and_package(ep, package_path=str(out / f"resnet18-{device}.pt2"))
                r["compile_s"] = round(time.monotonic() - start, 1)
                loaded = inductor.aoti_load_package(package)
                with torch.no_grad():
                    got = loaded(xi)
                got = got[0] if isinstance(got, (list, tuple)) else got
                r["python_max_abs_err"] = float((got.float().cpu() - expected).abs().max())
                (out / "x.f32").write_bytes(x.numpy().tobytes())
                (out / f"expected-{device}.f32").write_bytes(expected.numpy().tobytes())
                if args.probe:
                    probe = subprocess.run([args.probe, package, str(out / "x.f32"), "2,3,224,224",
                                            str(out / f"expected-{device}.f32"), device],
                                           capture_output=True, text=True, timeout=300)
                    r["cpp"] = json.loads(probe.stdout) if probe.returncode == 0 else {
                        "loaded": False, "error": probe.stderr[-500:]}
            except Exception as e:  # noqa: BLE001: what breaks is the finding
                r["error"] = f"{type(e).__name__}: {str(e)[:500]}"
    (out / "pt2.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
