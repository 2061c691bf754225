// Runs instruction cases natively (x86-64 host) and prints
// golden lines with the observed results. Input: mode | bytes | inputs | undef=XX [mem reads]
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <signal.h>
#include <setjmp.h>
#include <sys/mman.h>

static const char *names[16]={"rax","rcx","rdx","rbx","rsp","rbp","rsi","rdi","r8","r9","r10","r11","r12","r13","r14","r15"};
struct st { uint64_t r[16]; uint64_t fl; };
static sigjmp_buf jb; static volatile int sig;
static void h(int s){ sig=s; siglongjmp(jb,1); }
static uint8_t *code; static uint8_t *data = (uint8_t*)0x2000; // remapped below
#define DATA 0x200000ULL
static int emit(uint8_t *p,const char *hex){int n=0;unsigned v;while(sscanf(hex," %2x%n",&v,&(int){0})==1){int k;sscanf(hex," %2x%n",&v,&k);p[n++]=v;hex+=k;}return n;}
static const uint8_t pro[]={0x53,0x55,0x41,0x54,0x41,0x55,0x41,0x56,0x41,0x57,0x57, 0xff,0xb7,0x80,0,0,0, 0x9d,
 0x48,0x8b,0x07, 0x48,0x8b,0x4f,0x08, 0x48,0x8b,0x57,0x10, 0x48,0x8b,0x5f,0x18, 0x48,0x8b,0x6f,0x28, 0x48,0x8b,0x77,0x30,
 0x4c,0x8b,0x47,0x40, 0x4c,0x8b,0x4f,0x48, 0x4c,0x8b,0x57,0x50, 0x4c,0x8b,0x5f,0x58, 0x4c,0x8b,0x67,0x60, 0x4c,0x8b,0x6f,0x68,
 0x4c,0x8b,0x77,0x70, 0x4c,0x8b,0x7f,0x78, 0x48,0x8b,0x7f,0x38};
static const uint8_t epi[]={0x48,0x87,0x3c,0x24, 0x9c, 0xfc, 0x8f,0x87,0x80,0,0,0,
 0x48,0x89,0x07, 0x48,0x89,0x4f,0x08, 0x48,0x89,0x57,0x10, 0x48,0x89,0x5f,0x18, 0x48,0x89,0x6f,0x28, 0x48,0x89,0x77,0x30,
 0x4c,0x89,0x47,0x40, 0x4c,0x89,0x4f,0x48, 0x4c,0x89,0x57,0x50, 0x4c,0x89,0x5f,0x58, 0x4c,0x89,0x67,0x60, 0x4c,0x89,0x6f,0x68,
 0x4c,0x89,0x77,0x70, 0x4c,0x89,0x7f,0x78, 0x58, 0x48,0x89,0x47,0x38,
 0x41,0x5f,0x41,0x5e,0x41,0x5d,0x41,0x5c,0x5d,0x5b,0xc3};
static const char FL[]="CPAZSO"; static const uint64_t FB[]={1,4,16,64,128,2048};
static char *trim(char*s){while(*s==' ')s++;char*e=s+strlen(s);while(e>s&&(e[-1]==' '||e[-1]=='\n'))*--e=0;return s;}
int main(){
  code=mmap(0,4096,7,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  data=mmap((void*)DATA,4096*4,3,MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE,-1,0);
  if(data!=(void*)DATA){perror("map");return 1;}
  signal(SIGFPE,h);signal(SIGILL,h);signal(SIGSEGV,h);signal(SIGBUS,h);
  char line[1024];
  while(fgets(line,sizeof line,stdin)){
    char *t=trim(line); if(!*t||*t=='#'){printf("%s\n",t);continue;}
    char buf[1024]; strcpy(buf,t);
    char *f[4]; int nf=0; char*p=buf; for(;nf<4;){f[nf++]=p;p=strchr(p,'|');if(!p)break;*p++=0;}
    if(nf!=4){fprintf(stderr,"bad: %s\n",t);return 1;}
    char *mode=trim(f[0]),*bytes=trim(f[1]),*in=trim(f[2]),*extra=trim(f[3]);
    struct st s={0}; s.fl=2; memset(data,0,4096*4);
    uint64_t off = strcmp(mode,"real")==0 ? 0 : 0; (void)off;
    char tmp[512]; strcpy(tmp,in);
    for(char*tok=strtok(tmp," ");tok;tok=strtok(0," ")){
      char*eq=strchr(tok,'=');*eq=0;char*v=eq+1;
      int done=0; for(int i=0;i<16;i++) if(!strcmp(tok,names[i])){s.r[i]=strtoull(v,0,0);done=1;}
      if(!strcmp(tok,"f")){for(char*c=v;*c;c++)s.fl|=FB[strchr(FL,*c)-FL];done=1;}
      if(!strcmp(tok,"df")){if(*v=='1')s.fl|=1024;done=1;}
      if(!done&&tok[0]=='m'){int sz=atoi(tok+1)/8;char*a=strchr(tok,'[');uint64_t ad=strtoull(a+1,0,0);uint64_t val=strtoull(v,0,0);memcpy(data+(ad-DATA),&val,sz);done=1;}
      if(!done){fprintf(stderr,"bad tok %s\n",tok);return 1;}
    }
    struct st in_s=s;
    uint8_t insn[32]; int n=0;
    if(!strcmp(mode,"real")){ uint8_t tmpb[32]; int m=emit(tmpb,bytes); if(tmpb[0]==0x66){memcpy(insn,tmpb+1,m-1);n=m-1;} else {insn[0]=0x66;memcpy(insn+1,tmpb,m);n=m+1;} }
    else n=emit(insn,bytes);
    int k=0; memcpy(code,pro,sizeof pro);k=sizeof pro; memcpy(code+k,insn,n);k+=n;memcpy(code+k,epi,sizeof epi);
    sig=0;
    if(sigsetjmp(jb,1)==0){ ((void(*)(struct st*))code)(&s); }
    char out[512]=""; 
    if(sig){ sprintf(out,"%s",sig==SIGFPE?"#DE":sig==SIGILL?"#UD":"#GP"); }
    else{
      uint64_t m32 = strcmp(mode,"long64")?0xffffffffULL:~0ULL;
      for(int i=0;i<16;i++){ if(i==4)continue; if(s.r[i]!=in_s.r[i]) { if(strcmp(mode,"long64") && (s.r[i]>>32)) {fprintf(stderr,"upper bits set: %s\n",t);} sprintf(out+strlen(out),"%s=0x%llx ",names[i],(unsigned long long)(s.r[i]&m32)); } }
      strcat(out,"f=");for(int i=0;i<6;i++) if(s.fl&FB[i]) {size_t l=strlen(out);out[l]=FL[i];out[l+1]=0;}
      // extra: undef=XX and m32[addr] reads
      char e2[256];strcpy(e2,extra);
      for(char*tok=strtok(e2," ");tok;tok=strtok(0," ")){
        if(!strncmp(tok,"undef=",6)){ if(tok[6]) sprintf(out+strlen(out)," %s",tok); }
        else if(tok[0]=='m'){int sz=atoi(tok+1)/8;char*a=strchr(tok,'[');uint64_t ad=strtoull(a+1,0,0);uint64_t val=0;memcpy(&val,data+(ad-DATA),sz);sprintf(out+strlen(out)," %s=0x%llx",tok,(unsigned long long)val);}
      }
      if(s.fl&1024) strcat(out," df=1");
    }
    printf("%-8s | %s | %s | %s\n",mode,bytes,in,trim(out));
  }
}
