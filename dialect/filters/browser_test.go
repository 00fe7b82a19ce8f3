package filters

import "testing"

func TestBrowser(t *testing.T) {
	c := newCtx(t, "UTC")
	// platform/liquid/filters/README.md "browser" example.
	const gsa = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/79.0.259819395 Mobile/16G77 Safari/604.1"
	got, err := call(t, c, "browser", gsa, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := got.(*Browser)
	lookup := func(v any, path ...string) any {
		for _, p := range path {
			d, ok := v.(interface{ Get(string) (any, bool) })
			if !ok {
				return nil
			}
			v, _ = d.Get(p)
		}
		return v
	}
	str := func(v any) string {
		if s, ok := v.(interface{ LiquidString() string }); ok {
			return s.LiquidString()
		}
		if s, ok := v.(string); ok {
			return s
		}
		return "<nil>"
	}
	checks := []struct {
		path []string
		want string
	}{
		{nil, "Google 79.0.259819395"},
		{[]string{"name"}, "Google"},
		{[]string{"version"}, "79.0.259819395"},
		{[]string{"version", "major"}, "79"},
		{[]string{"version", "minor"}, "0"},
		{[]string{"os"}, "iOS 12.4"},
		{[]string{"os", "name"}, "iOS"},
		{[]string{"os", "version"}, "12.4"},
		{[]string{"os", "version", "major"}, "12"},
		{[]string{"os", "version", "minor"}, "4"},
		{[]string{"device"}, "iPhone"},
		{[]string{"device", "name"}, "iPhone"},
		{[]string{"device", "brand"}, "Apple"},
		{[]string{"device", "model"}, "iPhone"},
	}
	for _, ch := range checks {
		if g := str(lookup(b, ch.path...)); g != ch.want {
			t.Errorf("browser %v = %q, want %q", ch.path, g, ch.want)
		}
	}

	// Expected values from ruby-user-agent-parser 2.5 with uap-core 0.16
	// (Debian packages), the library Mechanic's docs name.
	others := []struct{ ua, want, os, device, brand, model string }{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/79.0.259819395 Mobile/16G77 Safari/604.1", "Google 79.0.259819395", "iOS 12.4", "iPhone", "Apple", "iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36", "Chrome 120.0.6099.109", "Windows 10", "Other", "", "Other"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari 17.1", "Mac OS X 10.15.7", "Mac", "Apple", "Mac"},
		{"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36", "Chrome Mobile 119.0.0.0", "Android 13", "Samsung SM-S918B", "Samsung", "SM-S918B"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121.0", "Ubuntu", "Other", "", "Other"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot 2.1", "Other", "Spider", "Spider", "Desktop"},
		{"curl/8.0", "curl 8.0", "Other", "Other", "", "Other"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", "Mobile Safari 17.1.2", "iOS 17.1.2", "iPhone", "Apple", "iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.77", "Edge 120.0.2210.77", "Windows 10", "Other", "", "Other"},
		{"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0.6045.169 Mobile/15E148 Safari/604.1", "Chrome Mobile iOS 119.0.6045.169", "iOS 16.6", "iPad", "Apple", "iPad"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome Mobile 120.0.0.0", "Android 10", "K", "Generic_Android", "K"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36", "Chrome Mobile 120.0.6099.43", "Android 14", "Pixel 8", "Google", "Pixel 8"},
		{"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE 11.0", "Windows 7", "Other", "", "Other"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0", "Opera 105.0.0", "Windows 10", "Other", "", "Other"},
		{"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "Samsung Internet 23.0", "Android 13", "Samsung SM-A536B", "Samsung", "SM-A536B"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBAV/441.0.0.30.110]", "Facebook 441.0.0", "iOS 17.1", "iPhone", "Apple", "iPhone14,5"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15", "Firefox iOS 120.0", "iOS 17.1", "iPhone", "Apple", "iPhone"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120.0.0.0", "Chrome OS 14541.0.0", "Other", "", "Other"},
		{"Mozilla/5.0 (Android 13; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox Mobile 121.0", "Android 13", "Generic Smartphone", "Generic", "Smartphone"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120.0.0.0", "Linux", "Other", "", "Other"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121.0", "Mac OS X 10.15", "Mac", "Apple", "Mac"},
		{"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36", "Chrome 109.0.0.0", "Windows 7", "Other", "", "Other"},
		{"Mozilla/5.0 (Linux; Android 11; Redmi Note 8 Pro Build/RP1A.200720.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36", "Chrome Mobile 119.0.6045.163", "Android 11", "XiaoMi Redmi Note 8 Pro", "XiaoMi", "Redmi Note 8 Pro"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 309.1.0.24.108 (iPhone13,2; iOS 16_0; en_US; en; scale=3.00; 1170x2532; 537288532)", "Instagram 309.1.0", "iOS 16.0", "iPhone", "Apple", "iPhone13,2"},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot 2.0", "Other", "Spider", "Spider", "Desktop"},
	}
	for _, o := range others {
		p := ParseUserAgent(o.ua)
		got := []string{p.LiquidString(), p.os.LiquidString(), p.device.name, p.device.brand, p.device.model}
		want := []string{o.want, o.os, o.device, o.brand, o.model}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s\n got %q\nwant %q", o.ua, got, want)
				break
			}
		}
	}
	j := toJSON(t, ParseUserAgent(gsa))
	if j != `{"name":"Google","version":"79.0.259819395","os":{"name":"iOS","version":"12.4"},"device":{"name":"iPhone","brand":"Apple","model":"iPhone"}}` {
		t.Errorf("browser json = %s", j)
	}
	if _, err := call(t, c, "browser", js(t, `{}`), nil, nil); err == nil {
		t.Error("browser of a hash should fail")
	}
}
