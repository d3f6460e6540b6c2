#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for the download tests: it serves files by path with range
// requests (206, 416), the X-Linked-Etag header the model hub sends, and the failures a download
// meets: a connection cut mid-body, a body shorter than the file, a server error. One connection
// at a time, each closed after its response; every request is logged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vitscope::testing {

struct HttpRoute {
  std::string body;          // the whole file
  std::string linked_etag;   // sent as X-Linked-Etag: "<value>" when not empty
  int status = 200;          // anything but 200: that status, no body
  int cut_first_gets = 0;    // the first N GETs send only `cut_at` bytes of what they promise, then close
  std::size_t cut_at = 0;
  bool short_body = false;   // a complete-looking 200 whose body is the first half of the file
};

struct HttpRequest {
  std::string method;
  std::string path;
  long long range_start = -1;  // from "Range: bytes=N-", -1 without
};

class HttpTestServer {
 public:
  HttpTestServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0)
      throw std::runtime_error("test HTTP server: cannot listen on 127.0.0.1");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpTestServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void route(const std::string& path, HttpRoute r) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path] = std::move(r);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      answer(client);
      ::close(client);
    }
  }

  static void send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return;  // the client went away
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  void answer(int client) {
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(client, &c, 1, 0) == 1) head += c;
    HttpRequest request;
    const std::size_t space1 = head.find(' '), space2 = head.find(' ', space1 + 1);
    if (space1 == std::string::npos || space2 == std::string::npos) return;
    request.method = head.substr(0, space1);
    request.path = head.substr(space1 + 1, space2 - space1 - 1);
    for (const char* key : {"\r\nRange: bytes=", "\r\nrange: bytes="}) {
      const std::size_t at = head.find(key);
      if (at != std::string::npos) request.range_start = std::stoll(head.substr(at + std::strlen(key)));
    }
    HttpRoute route;
    bool found = false;
    int get_index = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      log_.push_back(request);
      if (routes_.count(request.path)) {
        found = true;
        route = routes_.at(request.path);
        if (request.method == "GET") get_index = gets_[request.path]++;
      }
    }
    const bool head_only = request.method == "HEAD";
    auto reply = [&](const std::string& status_line, const std::string& headers, const std::string& body,
                     std::size_t send_bytes) {
      std::string out = "HTTP/1.1 " + status_line + "\r\n" + headers + "Connection: close\r\n";
      if (!route.linked_etag.empty()) out += "X-Linked-Etag: \"" + route.linked_etag + "\"\r\n";
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      send_all(client, out.data(), out.size());
      if (!head_only) send_all(client, body.data(), std::min(send_bytes, body.size()));
    };
    if (!found) return reply("404 Not Found", "", "", 0);
    if (route.status != 200) return reply(std::to_string(route.status) + " Failed", "", "", 0);
    const std::string file = route.short_body ? route.body.substr(0, route.body.size() / 2) : route.body;
    const std::size_t send_limit = get_index < route.cut_first_gets ? route.cut_at : std::string::npos;
    if (request.range_start < 0) return reply("200 OK", "Accept-Ranges: bytes\r\n", file, send_limit);
    const auto start = static_cast<std::size_t>(request.range_start);
    if (start >= file.size())
      return reply("416 Range Not Satisfiable", "Content-Range: bytes */" + std::to_string(file.size()) + "\r\n", "", 0);
    reply("206 Partial Content",
          "Accept-Ranges: bytes\r\nContent-Range: bytes " + std::to_string(start) + "-" +
              std::to_string(file.size() - 1) + "/" + std::to_string(file.size()) + "\r\n",
          file.substr(start), send_limit);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, HttpRoute> routes_;
  std::map<std::string, int> gets_;
  std::vector<HttpRequest> log_;
};

}  // namespace vitscope::testing
