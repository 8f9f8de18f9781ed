// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes through the frame reader, the frontend message decoder, start-up packet, SCRAM
// and COPY/utility statement parsing. Any crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tarn/pgwire/pg_types.hpp"
#include "tarn/pgwire/protocol.hpp"
#include "tarn/pgwire/scram.hpp"
#include "tarn/pgwire/sql_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  using namespace tarn::pgwire;
  DecodeStartupPacket(bytes).status().IgnoreError();
  FrameReader reader;
  reader.Append(bytes);
  while (true) {
    auto frame = reader.Next();
    if (!frame.ok() || !*frame) break;
    auto message = DecodeFrontendMessage((*frame)->type, (*frame)->body);
    if (!message.ok()) continue;
    if (auto* p = std::get_if<PasswordMessage>(&*message)) {
      DecodeSaslInitialResponse(p->body).status().IgnoreError();
      DecodePasswordMessage(p->body).status().IgnoreError();
      ParseScramClientFirst(p->body).status().IgnoreError();
      ParseScramClientFinal(p->body).status().IgnoreError();
    }
    if (auto* q = std::get_if<QueryMessage>(&*message)) {
      for (const auto& s : SplitStatements(q->sql)) ClassifyStatement(s.text).status().IgnoreError();
    }
    if (auto* b = std::get_if<BindMessage>(&*message)) {
      static const int32_t kOids[] = {0, 16, 17, 20, 21, 23, 25, 700, 701, 1082, 1083, 1114, 1184, 1186, 1700, 2950, 3802};
      size_t i = 0;
      for (const auto& v : b->params) {
        if (v) DecodeParam(kOids[i++ % (sizeof(kOids) / sizeof(kOids[0]))], true, *v).status().IgnoreError();
      }
    }
  }
  return 0;
}
