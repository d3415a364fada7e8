// pt2_probe: would a `pt2` parity plugin work? Loads an AOTInductor package (.pt2) with
// torch::inductor::AOTIModelPackageLoader, the C++ API such a plugin would use, runs it on one
// float32 input read from a raw file, and prints the largest absolute difference from the
// expected output (also raw float32), as JSON on stdout.
//
//   pt2_probe PACKAGE.pt2 INPUT.f32 N,C,H,W EXPECTED.f32 cpu|cuda
//
// Part of the device checks (scripts/device-check), not of bundlegate: it answers issue 13's
// question about the next plugin. Exit 0 when it ran, 1 with a message on stderr otherwise.
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + static_cast<long>(out.size() * sizeof(float)),
            reinterpret_cast<char*>(out.data()));
  return out;
}

std::vector<int64_t> ParseShape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) shape.push_back(std::stoll(part));
  return shape;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: pt2_probe PACKAGE.pt2 INPUT.f32 N,C,H,W EXPECTED.f32 cpu|cuda\n";
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    torch::inductor::AOTIModelPackageLoader loader(argv[1]);
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::vector<float> input = ReadFloats(argv[2]);
    const std::vector<float> expected = ReadFloats(argv[4]);
    const torch::Device device(std::string(argv[5]) == "cuda" ? torch::kCUDA : torch::kCPU);
    std::vector<at::Tensor> inputs = {
        torch::from_blob(input.data(), ParseShape(argv[3]), torch::kFloat32).clone().to(device)};
    const auto run_start = std::chrono::steady_clock::now();
    std::vector<at::Tensor> outputs = loader.run(inputs);
    if (device.is_cuda()) torch::cuda::synchronize();
    const double run_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - run_start).count();
    const at::Tensor got = outputs.at(0).to(torch::kCPU).to(torch::kFloat32).contiguous().flatten();
    const at::Tensor want = torch::from_blob(const_cast<float*>(expected.data()),
                                             {static_cast<int64_t>(expected.size())}, torch::kFloat32);
    if (got.numel() != want.numel()) {
      std::cerr << "output has " << got.numel() << " elements, expected " << want.numel() << "\n";
      return 1;
    }
    const double max_abs = (got - want).abs().max().item<double>();
    std::cout << "{\"loaded\": true, \"load_ms\": " << load_ms << ", \"run_ms\": " << run_ms
              << ", \"max_abs_err\": " << max_abs << ", \"outputs\": " << outputs.size() << "}\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "pt2_probe: " << e.what() << "\n";
    return 1;
  }
}
