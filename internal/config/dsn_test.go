package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		secrets   []string // must not appear in the output
		keep      []string // must still appear
		want      string   // exact output, when set
	}{
		{name: "empty"},
		{name: "pg url without password", dsn: "postgres://curio@127.0.0.1:5432/curio?sslmode=disable",
			want: "postgres://curio@127.0.0.1:5432/curio?sslmode=disable"},
		{name: "pg url", dsn: "postgres://curio:s3cretPW@db.example.com:5432/warehouse",
			secrets: []string{"s3cretPW"}, want: "postgres://curio:xxxxx@db.example.com:5432/warehouse"},
		{name: "postgresql url with escaped password", dsn: "postgresql://curio:s3cret%40PW%2F@db.example.com/warehouse",
			secrets: []string{"s3cret", "%40PW"}, keep: []string{"curio", "db.example.com", "warehouse"}},
		{name: "pg url password with @", dsn: "postgres://curio:s3cret@PW@db.example.com/warehouse",
			secrets: []string{"s3cret", "PW@"}, keep: []string{"curio", "db.example.com", "warehouse"}},
		{name: "pg url query password", dsn: "postgres://db.example.com:5432/warehouse?user=curio&password=s3cretPW&sslmode=require",
			secrets: []string{"s3cretPW"}, keep: []string{"user=curio", "db.example.com", "warehouse", "sslmode=require", "password=xxxxx"}},
		{name: "pg url both passwords", dsn: "postgres://curio:s3cretA@db.example.com/warehouse?password=s3cretB&sslpassword=s3cretC",
			secrets: []string{"s3cretA", "s3cretB", "s3cretC"}, keep: []string{"curio", "db.example.com", "warehouse"}},
		{name: "pg url multi host", dsn: "postgres://curio:s3cretPW@h1.example.com:5432,h2.example.com:5432/warehouse",
			secrets: []string{"s3cretPW"}, keep: []string{"curio", "h1.example.com", "h2.example.com", "warehouse"}},
		{name: "pg url password stranded in port", dsn: "postgres://db.example.com:s3cretPW/warehouse",
			secrets: []string{"s3cretPW"}},
		{name: "pg url password with unescaped slash", dsn: "postgres://curio:s3cret/PW@db.example.com/warehouse",
			secrets: []string{"s3cret", "PW"}},
		{name: "pg url numeric password with ?", dsn: "postgres://curio:1234?5678@db.example.com/warehouse",
			secrets: []string{"1234", "5678"}},
		{name: "pg url password with #", dsn: "postgres://curio:1234#5678@db.example.com/warehouse",
			secrets: []string{"1234", "5678"}},
		{name: "keyword", dsn: "host=db.example.com user=curio password=s3cretPW dbname=warehouse sslmode=disable",
			secrets: []string{"s3cretPW"}, want: "host=db.example.com user=curio password=xxxxx dbname=warehouse sslmode=disable"},
		{name: "keyword quoted", dsn: "host=db.example.com  user = curio password = 'p w\\'s3cret' dbname=warehouse",
			secrets: []string{"s3cret", "p w"}, want: "host=db.example.com user=curio password=xxxxx dbname=warehouse"},
		{name: "keyword escaped space", dsn: `host=db.example.com user=curio password=s3cret\ PW dbname=warehouse`,
			secrets: []string{"s3cret", "PW"}, keep: []string{"host=db.example.com", "user=curio", "dbname=warehouse"}},
		{name: "keyword sslpassword", dsn: "host=/tmp user=curio sslpassword=s3cretPW dbname=warehouse",
			secrets: []string{"s3cretPW"}, keep: []string{"host=/tmp", "user=curio", "dbname=warehouse"}},
		{name: "keyword unterminated quote", dsn: "host=db.example.com user=curio password='s3cretPW dbname=warehouse",
			secrets: []string{"s3cretPW"}, want: dsnHidden},
		{name: "keyword without password", dsn: "host=/run/postgresql dbname=warehouse",
			want: "host=/run/postgresql dbname=warehouse"},
		{name: "mysql tcp", dsn: "root:s3cretPW@tcp(db.example.com:3306)/serving?parseTime=true",
			secrets: []string{"s3cretPW"}, want: "root:xxxxx@tcp(db.example.com:3306)/serving?parseTime=true"},
		{name: "mysql password with @ and /", dsn: "curio:s3c@ret/PW@tcp(db.example.com:3306)/serving",
			secrets: []string{"s3c@ret", "ret/PW"}, keep: []string{"curio", "db.example.com", "serving"}},
		{name: "mysql password with ://", dsn: "curio:s3c://retPW@tcp(db.example.com)/serving",
			secrets: []string{"s3c", "retPW"}, keep: []string{"curio", "db.example.com", "serving"}},
		{name: "mysql unix without password", dsn: "root@unix(/tmp/mysqld.sock)/curio",
			want: "root@unix(/tmp/mysqld.sock)/curio"},
		{name: "mysql unparseable", dsn: "root:s3cretPW@tcp(db.example.com:3306/serving",
			secrets: []string{"s3cretPW"}, want: dsnHidden},
		{name: "other url", dsn: "mysql://root:s3cretPW@db.example.com:3306/serving",
			secrets: []string{"s3cretPW"}, want: "mysql://root:xxxxx@db.example.com:3306/serving"},
		{name: "garbage", dsn: "s3cretPW", secrets: []string{"s3cretPW"}, want: dsnHidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactDSN(tc.dsn)
			for _, s := range tc.secrets {
				if strings.Contains(got, s) {
					t.Errorf("RedactDSN(%q) = %q shows %q", tc.dsn, got, s)
				}
			}
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("RedactDSN(%q) = %q lost %q", tc.dsn, got, k)
				}
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
			}
		})
	}
}

func TestConfigStringMasksDSNs(t *testing.T) {
	c, err := FromLookup(lookup(map[string]string{
		"CURIO_POSTGRES_DSN": "host=db.example.com user=curio password='pg s3cret' dbname=warehouse",
		"CURIO_MYSQL_DSN":    "serving:my-s3cret@tcp(my.example.com:3306)/serving",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf("%v %+v %s", c, c, c)
	for _, secret := range []string{"pg s3cret", "my-s3cret"} {
		if strings.Contains(s, secret) {
			t.Errorf("config printed with %q: %s", secret, s)
		}
	}
	for _, keep := range []string{"db.example.com", "my.example.com"} {
		if !strings.Contains(s, keep) {
			t.Errorf("config lost %q: %s", keep, s)
		}
	}
	if c.PostgresDSN == "" || !strings.Contains(c.PostgresDSN, "pg s3cret") {
		t.Errorf("String must not change the config itself: %q", c.PostgresDSN)
	}
}
